import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import {
  FieldError,
  I18n,
  LanguageSwitch,
  ProblemAlert,
  fieldMessage,
  operatorLogin,
  operatorLoginMfa,
  outcome,
  type Problem,
} from 'shared';
import { OperatorSession } from './operator-session';

@Component({
  selector: 'admin-operator-sign-in',
  imports: [FormsModule, FieldError, ProblemAlert, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<main class="page" id="main">
    <div class="row spread">
      <h1>{{ i18n.t('platform.title') }}</h1>
      <agora-language-switch />
    </div>
    <agora-problem-alert [problem]="problem()" [placed]="['email', 'password', 'code']" />
    @if (challenge()) {
      <form (ngSubmit)="confirm()" novalidate>
        <div class="field">
          <label for="code">{{ i18n.t('admin.sign-in.code') }}</label>
          <input
            id="code"
            name="code"
            autocomplete="one-time-code"
            required
            [(ngModel)]="code"
            [attr.aria-invalid]="!!error('code')"
            [attr.aria-describedby]="error('code') ? 'code-error' : null"
          />
          <agora-field-error [problem]="problem()" field="code" for="code" />
        </div>
        <button class="button" type="submit">{{ i18n.t('admin.sign-in.confirm') }}</button>
      </form>
    } @else {
      <form (ngSubmit)="submit()" novalidate>
        <div class="field">
          <label for="email">{{ i18n.t('admin.field.email') }}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            [(ngModel)]="email"
            [attr.aria-invalid]="!!error('email')"
            [attr.aria-describedby]="error('email') ? 'email-error' : null"
          />
          <agora-field-error [problem]="problem()" field="email" for="email" />
        </div>
        <div class="field">
          <label for="password">{{ i18n.t('admin.field.password') }}</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            [(ngModel)]="password"
            [attr.aria-invalid]="!!error('password')"
            [attr.aria-describedby]="error('password') ? 'password-error' : null"
          />
          <agora-field-error [problem]="problem()" field="password" for="password" />
        </div>
        <button class="button" type="submit">{{ i18n.t('admin.sign-in.submit') }}</button>
      </form>
    }
  </main>`,
})
export class OperatorSignIn {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(OperatorSession);
  private readonly router = inject(Router);
  protected readonly email = signal('');
  protected readonly password = signal('');
  protected readonly code = signal('');
  protected readonly challenge = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected async submit(): Promise<void> {
    const result = await outcome(operatorLogin({ body: { email: this.email(), password: this.password() } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    const answer = result.data;
    if ('challenge' in answer) {
      this.challenge.set(answer.challenge);
    } else {
      await this.session.signedInWith(answer.csrf_token);
      await this.router.navigateByUrl('/platform');
    }
  }

  protected async confirm(): Promise<void> {
    const challenge = this.challenge();
    if (!challenge) return;
    const code = this.code().trim();
    const body = /^\d{6}$/.test(code) ? { challenge, code } : { challenge, recovery_code: code };
    const result = await outcome(operatorLoginMfa({ body }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    await this.session.signedInWith(result.data.csrf_token);
    await this.router.navigateByUrl('/platform');
  }
}
