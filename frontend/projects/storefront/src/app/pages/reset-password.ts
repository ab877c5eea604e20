import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  customerPasswordResetConfirm,
  fieldMessage,
  outcome,
  type Problem,
} from 'shared';

/** The page a password-reset email links to (`/reset-password?token=…`). */
@Component({
  selector: 'shop-reset-password',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('reset.title') }}</h1>
    @if (!token()) {
      <p class="problem-alert" role="alert">{{ i18n.t('reset.no-token') }}</p>
      <p>
        <a routerLink="/forgot-password">{{ i18n.t('forgot.title') }}</a>
      </p>
    } @else if (done()) {
      <p class="notice" role="status">{{ i18n.t('reset.done') }}</p>
      <p>
        <a class="button" routerLink="/login">{{ i18n.t('nav.login') }}</a>
      </p>
    } @else {
      <agora-problem-alert [problem]="problem()" [placed]="['password']" />
      <form (ngSubmit)="submit()" novalidate>
        <div class="field">
          <label for="password">{{ i18n.t('field.new-password') }}</label>
          <p class="hint" id="password-hint">{{ i18n.t('field.password-hint') }}</p>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="new-password"
            required
            [(ngModel)]="password"
            [attr.aria-invalid]="!!error()"
            [attr.aria-describedby]="error() ? 'password-hint password-error' : 'password-hint'"
          />
          <agora-field-error [problem]="problem()" field="password" for="password" />
        </div>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('reset.submit') }}</button>
      </form>
    }
  </div>`,
})
export class ResetPassword {
  protected readonly i18n = inject(I18n);
  readonly token = input<string | undefined>();
  protected readonly password = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly done = signal(false);

  protected error(): string | null {
    return fieldMessage(this.problem(), 'password');
  }

  protected async submit(): Promise<void> {
    const token = this.token();
    if (!token) return;
    this.busy.set(true);
    const result = await outcome(customerPasswordResetConfirm({ body: { token, password: this.password() } }));
    this.busy.set(false);
    if (result.ok) {
      this.done.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }
}
