import { ChangeDetectionStrategy, Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  customerConfirmOidcLink,
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
import { SsoLanding } from '../sso-landing';

/**
 * Email and password, then (for an account with an authenticator) the second step; and the
 * shop's own sign-in provider when the merchant set one up for customers. The provider's
 * landings come here too (see `SsoLanding`): its second step, or a link to an existing account,
 * which the holder confirms after signing in with their password.
 */
@Component({
  selector: 'shop-login',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    @if (linked()) {
      <h1>{{ i18n.t('link.done-title') }}</h1>
      <p class="notice" role="status">{{ i18n.t('link.done', { provider: providerName() }) }}</p>
      <p>
        <button class="button" type="button" (click)="leave()">{{ i18n.t('link.continue') }}</button>
      </p>
    } @else if (confirming()) {
      <h1>{{ i18n.t('link.confirm-title', { provider: providerName() }) }}</h1>
      <p>{{ i18n.t('link.confirm-intro', { provider: providerName(), email: signedInEmail() }) }}</p>
      <p>{{ i18n.t('link.confirm-warning', { provider: providerName() }) }}</p>
      <agora-problem-alert [problem]="problem()" />
      <p class="actions">
        <button class="button" type="button" [disabled]="busy()" (click)="link()">
          {{ i18n.t('link.confirm', { provider: providerName() }) }}
        </button>
        <button class="button secondary" type="button" [disabled]="busy()" (click)="leave()">
          {{ i18n.t('link.skip') }}
        </button>
      </p>
    } @else if (challenge()) {
      <h1>{{ i18n.t('login.mfa-title') }}</h1>
      @if (fromProvider()) {
        <p>{{ i18n.t('login.mfa-after-provider', { provider: providerName() }) }}</p>
      }
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
      @if (linkToken()) {
        <p class="card" data-testid="link-intro">{{ i18n.t('link.intro', { provider: providerName() }) }}</p>
      }
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
      <!-- While a link waits for the password, the provider would only bring the shopper back here. -->
      @if (singleSignOn(); as sso) {
        @if (!linkToken()) {
          <p class="or">{{ i18n.t('login.or') }}</p>
          <!-- A full page load: the server answers with a redirect to the provider. -->
          <p>
            <a class="button secondary" [href]="sso.start_path">{{
              i18n.t('login.single-sign-on', { provider: sso.provider })
            }}</a>
          </p>
        }
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
  /** Back from the shop's provider with a second step to show (not after a password). */
  protected readonly fromProvider = signal(false);
  /** A provider login that found this shop's account by email, waiting for its holder. */
  protected readonly linkToken = signal<string | null>(null);
  /** Signed in with the password: the shopper now says whether to link. */
  protected readonly confirming = signal(false);
  protected readonly linked = signal(false);
  protected readonly providerName = computed(() => this.singleSignOn()?.provider ?? this.i18n.t('link.the-provider'));
  protected readonly signedInEmail = computed(() => this.customer.account()?.email ?? '');

  constructor() {
    const landing = inject(SsoLanding).take();
    if (landing?.kind === 'mfa') {
      this.challenge.set(landing.challenge);
      this.fromProvider.set(true);
    } else if (landing?.kind === 'link') {
      this.linkToken.set(landing.token);
    }
  }

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
      this.problem.set(null);
      await this.finish(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }

  /**
   * Links the provider identity to the account just signed in to. Never done without this
   * click: a link token in someone else's address (sent to them by whoever controls the provider
   * identity) must not attach that identity to their account unasked.
   */
  protected async link(): Promise<void> {
    const token = this.linkToken();
    if (!token) return;
    this.busy.set(true);
    const result = await outcome(customerConfirmOidcLink({ body: { token } }));
    this.busy.set(false);
    if (result.ok) {
      this.problem.set(null);
      this.linkToken.set(null);
      this.confirming.set(false);
      this.linked.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }

  /** On to where the shopper was going: after linking, or without linking. */
  protected async leave(): Promise<void> {
    this.linkToken.set(null);
    const next = this.next();
    const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/account';
    await this.router.navigateByUrl(target);
  }

  private async finish(login: LoginResponse): Promise<void> {
    this.customer.signedInWith(login.account, login.csrf_token);
    this.challenge.set(null);
    if (this.linkToken()) {
      this.confirming.set(true);
      return;
    }
    await this.leave();
  }
}
