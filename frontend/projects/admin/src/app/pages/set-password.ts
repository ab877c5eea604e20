import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ActivatedRoute, RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  LanguageSwitch,
  ProblemAlert,
  fieldMessage,
  outcome,
  staffPasswordResetConfirm,
  type Problem,
} from 'shared';

/**
 * Where a staff invitation (`/admin/accept-invitation?token=…`) and a staff password reset
 * (`/admin/reset-password?token=…`) land: both set the member's password with the link's token.
 */
@Component({
  selector: 'admin-set-password',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<main class="page" id="main">
    <div class="row spread">
      <h1>{{ i18n.t(invitation ? 'admin.set-password.welcome' : 'admin.set-password.title') }}</h1>
      <agora-language-switch />
    </div>
    @if (!token()) {
      <p class="problem-alert" role="alert">{{ i18n.t('admin.set-password.incomplete') }}</p>
    } @else if (done()) {
      <p class="notice" role="status">{{ i18n.t('admin.set-password.done') }}</p>
      <p>
        <a class="button" routerLink="/sign-in">{{ i18n.t('admin.sign-in.submit') }}</a>
      </p>
    } @else {
      <agora-problem-alert [problem]="problem()" [placed]="['password']" />
      <form (ngSubmit)="submit()" novalidate>
        <div class="field">
          <label for="password">{{ i18n.t('admin.field.new-password') }}</label>
          <p class="hint" id="password-hint">{{ i18n.t('admin.field.password-hint') }}</p>
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
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.set-password.submit') }}</button>
      </form>
    }
  </main>`,
})
export class SetPassword {
  protected readonly i18n = inject(I18n);
  protected readonly invitation = inject(ActivatedRoute).snapshot.data['invitation'] === true;
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
    const result = await outcome(staffPasswordResetConfirm({ body: { token, password: this.password() } }));
    this.busy.set(false);
    if (result.ok) {
      this.done.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }
}
