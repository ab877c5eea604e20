import { ChangeDetectionStrategy, Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import {
  I18n,
  FieldError,
  LanguageSwitch,
  ProblemAlert,
  fieldMessage,
  outcome,
  staffConfirmOidcLink,
  staffLogin,
  staffLoginMfa,
  staffSignInOptions,
  type LoginResponse,
  type MfaChallenge,
  type Problem,
  type SignInOptions,
} from 'shared';
import { SsoLanding } from '../sso-landing';
import { StaffSession } from '../staff-session';

/**
 * Staff sign-in: email and password, then the authenticator code when the member has one; and
 * the shop's own sign-in provider when the owner set one up for staff. The provider's landings
 * come here too (see `SsoLanding`): its second step, or a link to an existing account, which the
 * holder confirms after signing in with their password.
 */
@Component({
  selector: 'admin-sign-in',
  imports: [FormsModule, FieldError, ProblemAlert, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<main class="page" id="main">
    @if (linked()) {
      <h1>{{ i18n.t('admin.link.done-title') }}</h1>
      <p class="notice" role="status">{{ i18n.t('admin.link.done', { provider: providerName() }) }}</p>
      <p>
        <button class="button" type="button" (click)="leave()">{{ i18n.t('admin.link.continue') }}</button>
      </p>
    } @else if (confirming()) {
      <h1>{{ i18n.t('admin.link.confirm-title', { provider: providerName() }) }}</h1>
      <p>{{ i18n.t('admin.link.confirm-intro', { provider: providerName(), email: signedInEmail() }) }}</p>
      <p>{{ i18n.t('admin.link.confirm-warning', { provider: providerName() }) }}</p>
      <agora-problem-alert [problem]="problem()" />
      <div class="row">
        <button class="button" type="button" [disabled]="busy()" (click)="link()">
          {{ i18n.t('admin.link.confirm', { provider: providerName() }) }}
        </button>
        <button class="button secondary" type="button" [disabled]="busy()" (click)="leave()">
          {{ i18n.t('admin.link.skip') }}
        </button>
      </div>
    } @else if (challenge()) {
      <h1>{{ i18n.t('admin.sign-in.mfa-title') }}</h1>
      @if (fromProvider()) {
        <p>{{ i18n.t('admin.sign-in.mfa-after-provider', { provider: providerName() }) }}</p>
      }
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
      @if (linkToken()) {
        <p class="card" data-testid="link-intro">{{ i18n.t('admin.link.intro', { provider: providerName() }) }}</p>
      }
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
      <!-- While a link waits for the password, the provider would only bring the member back here. -->
      @if (singleSignOn(); as sso) {
        @if (!linkToken()) {
          <p>{{ i18n.t('admin.sign-in.or') }}</p>
          <!-- A full page load: the server answers with a redirect to the provider. -->
          <p>
            <a class="button secondary" [href]="sso.start_path">{{
              i18n.t('admin.sign-in.single-sign-on', { provider: sso.provider })
            }}</a>
          </p>
        }
      }
    }
  </main>`,
})
export class SignIn implements OnInit {
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
  protected readonly singleSignOn = signal<SignInOptions['single_sign_on']>(null);
  /** Back from the shop's provider with a second step to show (not after a password). */
  protected readonly fromProvider = signal(false);
  /** A provider login that found this shop's staff account by email, waiting for its holder. */
  protected readonly linkToken = signal<string | null>(null);
  /** Signed in with the password: the member now says whether to link. */
  protected readonly confirming = signal(false);
  protected readonly linked = signal(false);
  protected readonly providerName = computed(
    () => this.singleSignOn()?.provider ?? this.i18n.t('admin.link.the-provider'),
  );
  protected readonly signedInEmail = computed(() => this.session.account()?.email ?? '');

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
    const options = await outcome(staffSignInOptions());
    this.singleSignOn.set(options.ok ? (options.data.single_sign_on ?? null) : null);
  }

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
      this.problem.set(null);
      await this.finish(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }

  /**
   * Links the provider identity to the account just signed in to. Never done without this click:
   * a link token in someone else's address (sent to them by whoever controls the provider
   * identity) must not attach that identity to their account unasked.
   */
  protected async link(): Promise<void> {
    const token = this.linkToken();
    if (!token) return;
    this.busy.set(true);
    const result = await outcome(staffConfirmOidcLink({ body: { token } }));
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

  /** On to where the member was going: after linking, or without linking. */
  protected async leave(): Promise<void> {
    this.linkToken.set(null);
    const next = this.next();
    const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
    await this.router.navigateByUrl(this.session.mfaEnrolmentRequired() ? '/account' : target);
  }

  private async finish(login: LoginResponse): Promise<void> {
    await this.session.signedInWith(login.csrf_token);
    this.challenge.set(null);
    if (this.linkToken()) {
      this.confirming.set(true);
      return;
    }
    await this.leave();
  }
}
