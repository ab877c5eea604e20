import { ChangeDetectionStrategy, Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  customerLogin,
  customerLoginMfa,
  customerSignInOptions,
  fieldMessage,
  outcome,
  type LoginResponse,
  type MfaChallenge,
  type Problem,
  type SignInOptions,
} from 'shared';
import { Customer } from '../customer';

/**
 * Email and password, then (for an account with an authenticator) the second step; and the
 * shop's own sign-in provider when the merchant set one up for customers.
 */
@Component({
  selector: 'shop-login',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    @if (challenge()) {
      <h1>{{ i18n.t('login.mfa-title') }}</h1>
      <agora-problem-alert [problem]="problem()" [placed]="['code']" />
      <form (ngSubmit)="confirm()" novalidate>
        <div class="field">
          <label for="code">{{ i18n.t('field.code') }}</label>
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
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('login.mfa-submit') }}</button>
      </form>
    } @else {
      <h1>{{ i18n.t('login.title') }}</h1>
      <agora-problem-alert [problem]="problem()" [placed]="['email', 'password']" />
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
            [attr.aria-invalid]="!!error('email')"
            [attr.aria-describedby]="error('email') ? 'email-error' : null"
          />
          <agora-field-error [problem]="problem()" field="email" for="email" />
        </div>
        <div class="field">
          <label for="password">{{ i18n.t('field.password') }}</label>
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
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('login.submit') }}</button>
      </form>
      @if (singleSignOn(); as sso) {
        <p class="or">{{ i18n.t('login.or') }}</p>
        <!-- A full page load: the server answers with a redirect to the provider. -->
        <p>
          <a class="button secondary" [href]="sso.start_path">{{
            i18n.t('login.single-sign-on', { provider: sso.provider })
          }}</a>
        </p>
      }
      <p>
        <a routerLink="/forgot-password">{{ i18n.t('login.forgot') }}</a>
      </p>
      <p>
        <a routerLink="/register">{{ i18n.t('login.no-account') }}</a>
      </p>
    }
  </div>`,
})
export class Login implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly customer = inject(Customer);
  private readonly router = inject(Router);
  /** Where to go after signing in (set by the account pages' guard); only paths on this shop. */
  readonly next = input<string | undefined>();
  protected readonly email = signal('');
  protected readonly password = signal('');
  protected readonly code = signal('');
  protected readonly challenge = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly singleSignOn = signal<SignInOptions['single_sign_on']>(null);

  async ngOnInit(): Promise<void> {
    // Without an answer the page offers the password alone, which always works.
    const options = await outcome(customerSignInOptions());
    this.singleSignOn.set(options.ok ? (options.data.single_sign_on ?? null) : null);
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected async submit(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(customerLogin({ body: { email: this.email(), password: this.password() } }));
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
    // Authenticator codes are six digits; anything else is taken as a recovery code.
    const body = /^\d{6}$/.test(code) ? { challenge, code } : { challenge, recovery_code: code };
    this.busy.set(true);
    const result = await outcome(customerLoginMfa({ body }));
    this.busy.set(false);
    if (result.ok) {
      await this.finish(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }

  private async finish(login: LoginResponse): Promise<void> {
    this.customer.signedInWith(login.account, login.csrf_token);
    const next = this.next();
    const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/account';
    await this.router.navigateByUrl(target);
  }
}
