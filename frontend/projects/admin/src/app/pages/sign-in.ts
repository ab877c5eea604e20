import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import {
  I18n,
  FieldError,
  LanguageSwitch,
  ProblemAlert,
  fieldMessage,
  outcome,
  staffLogin,
  staffLoginMfa,
  type LoginResponse,
  type MfaChallenge,
  type Problem,
} from 'shared';
import { StaffSession } from '../staff-session';

/** Staff sign-in: email and password, then the authenticator code when the member has one. */
@Component({
  selector: 'admin-sign-in',
  imports: [FormsModule, FieldError, ProblemAlert, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<main class="page" id="main">
    @if (challenge()) {
      <h1>{{ i18n.t('admin.sign-in.mfa-title') }}</h1>
      <agora-problem-alert [problem]="problem()" [placed]="['code']" />
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
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.sign-in.confirm') }}</button>
      </form>
    } @else {
      <div class="row spread">
        <h1>{{ i18n.t('admin.sign-in.title') }}</h1>
        <agora-language-switch />
      </div>
      <agora-problem-alert [problem]="problem()" [placed]="['email', 'password']" />
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
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.sign-in.submit') }}</button>
      </form>
    }
  </main>`,
})
export class SignIn {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  private readonly router = inject(Router);
  readonly next = input<string | undefined>();
  protected readonly email = signal('');
  protected readonly password = signal('');
  protected readonly code = signal('');
  protected readonly challenge = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected async submit(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(staffLogin({ body: { email: this.email(), password: this.password() } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    const answer: LoginResponse | MfaChallenge = result.data;
    if ('challenge' in answer) {
      this.challenge.set(answer.challenge);
    } else {
      await this.finish(answer);
    }
  }

  protected async confirm(): Promise<void> {
    const challenge = this.challenge();
    if (!challenge) return;
    const code = this.code().trim();
    const body = /^\d{6}$/.test(code) ? { challenge, code } : { challenge, recovery_code: code };
    this.busy.set(true);
    const result = await outcome(staffLoginMfa({ body }));
    this.busy.set(false);
    if (result.ok) {
      await this.finish(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }

  private async finish(login: LoginResponse): Promise<void> {
    await this.session.signedInWith(login.csrf_token);
    const next = this.next();
    const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
    await this.router.navigateByUrl(this.session.mfaEnrolmentRequired() ? '/account' : target);
  }
}
