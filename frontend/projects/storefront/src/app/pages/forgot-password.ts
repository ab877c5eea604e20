import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  customerPasswordResetRequest,
  fieldMessage,
  outcome,
  type Problem,
} from 'shared';

@Component({
  selector: 'shop-forgot-password',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('forgot.title') }}</h1>
    @if (sentTo(); as email) {
      <p class="notice" role="status">{{ i18n.t('forgot.done', { email }) }}</p>
    } @else {
      <p>{{ i18n.t('forgot.intro') }}</p>
      <agora-problem-alert [problem]="problem()" [placed]="['email']" />
      <form (ngSubmit)="submit()" novalidate>
        <div class="field">
          <label for="email">{{ i18n.t('field.email') }}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            [(ngModel)]="email"
            [attr.aria-invalid]="!!error()"
            [attr.aria-describedby]="error() ? 'email-error' : null"
          />
          <agora-field-error [problem]="problem()" field="email" for="email" />
        </div>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('forgot.submit') }}</button>
      </form>
    }
  </div>`,
})
export class ForgotPassword {
  protected readonly i18n = inject(I18n);
  protected readonly email = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly sentTo = signal<string | null>(null);

  protected error(): string | null {
    return fieldMessage(this.problem(), 'email');
  }

  protected async submit(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(customerPasswordResetRequest({ body: { email: this.email() } }));
    this.busy.set(false);
    if (result.ok) {
      this.sentTo.set(this.email());
    } else {
      this.problem.set(result.problem);
    }
  }
}
