import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  deleteOidcConfig,
  fieldMessage,
  getOidcConfig,
  listRoles,
  outcome,
  putOidcConfig,
  type OidcConfig,
  type Problem,
  type Role,
} from 'shared';
import { StaffSession } from '../../staff-session';

const FIELDS = [
  'issuer_url',
  'client_id',
  'client_secret',
  'account_kind',
  'return_path',
  'staff_role',
  'staff_sso_only',
  'current_password',
];

/** Where staff land after the provider: the admin's start, which finishes their sign-in. */
const STAFF_LANDING = '/admin/';
/** Where shoppers land after the provider when the owner names no page (the server's default). */
const CUSTOMER_LANDING = '/';

/**
 * The shop's OpenID Connect provider. Only owners may set or remove it, with their password
 * asked afresh: whoever sets the provider decides who may sign in as whom. The client secret is
 * never shown back; left empty, the stored one stays.
 */
@Component({
  selector: 'admin-single-sign-on',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('sso.title') }}</h1>
    <p>{{ i18n.t('sso.intro') }}</p>
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    <agora-problem-alert [problem]="problem()" [placed]="fields" />
    @if (loaded()) {
      @if (config(); as c) {
        <dl class="facts">
          <dt>{{ i18n.t('sso.redirect-uri') }}</dt>
          <dd class="break">
            <code>{{ c.redirect_uri }}</code>
          </dd>
          <dt>{{ i18n.t('sso.secret') }}</dt>
          <dd>{{ c.client_secret_set ? i18n.t('sso.secret-stored') : i18n.t('sso.secret-missing') }}</dd>
        </dl>
      } @else {
        <p class="notice">{{ i18n.t('sso.none') }}</p>
      }
      <form (ngSubmit)="save()" novalidate [attr.aria-label]="i18n.t('sso.title')">
        <div class="field">
          <label for="sso-issuer">{{ i18n.t('sso.issuer') }}</label>
          <input
            id="sso-issuer"
            name="issuer_url"
            type="url"
            required
            placeholder="https://"
            [(ngModel)]="issuer"
            [attr.aria-invalid]="!!error('issuer_url')"
            [attr.aria-describedby]="error('issuer_url') ? 'sso-issuer-error sso-issuer-hint' : 'sso-issuer-hint'"
          />
          <p class="hint" id="sso-issuer-hint">{{ i18n.t('sso.issuer-hint') }}</p>
          <agora-field-error [problem]="problem()" field="issuer_url" for="sso-issuer" />
        </div>
        <div class="field">
          <label for="sso-client-id">{{ i18n.t('sso.client-id') }}</label>
          <input
            id="sso-client-id"
            name="client_id"
            required
            [(ngModel)]="clientId"
            [attr.aria-invalid]="!!error('client_id')"
            [attr.aria-describedby]="error('client_id') ? 'sso-client-id-error' : null"
          />
          <agora-field-error [problem]="problem()" field="client_id" for="sso-client-id" />
        </div>
        <div class="field">
          <label for="sso-client-secret">{{ i18n.t('sso.client-secret') }}</label>
          <input
            id="sso-client-secret"
            name="client_secret"
            type="password"
            autocomplete="off"
            [(ngModel)]="clientSecret"
            [attr.aria-invalid]="!!error('client_secret')"
            [attr.aria-describedby]="
              error('client_secret') ? 'sso-client-secret-error sso-client-secret-hint' : 'sso-client-secret-hint'
            "
          />
          <p class="hint" id="sso-client-secret-hint">{{ i18n.t('sso.client-secret-hint') }}</p>
          <agora-field-error [problem]="problem()" field="client_secret" for="sso-client-secret" />
        </div>
        <fieldset>
          <legend>{{ i18n.t('sso.who') }}</legend>
          <label>
            <input
              type="radio"
              name="account_kind"
              value="staff"
              [ngModel]="accountKind()"
              (ngModelChange)="chooseKind($event)"
            />
            {{ i18n.t('sso.kind.staff') }}
          </label>
          <label>
            <input
              type="radio"
              name="account_kind"
              value="customer"
              [ngModel]="accountKind()"
              (ngModelChange)="chooseKind($event)"
            />
            {{ i18n.t('sso.kind.customer') }}
          </label>
          <agora-field-error [problem]="problem()" field="account_kind" for="sso-kind" />
        </fieldset>
        @if (accountKind() === 'staff') {
          <div class="field">
            <label for="sso-role">{{ i18n.t('sso.staff-role') }}</label>
            <select
              id="sso-role"
              name="staff_role"
              [(ngModel)]="staffRole"
              [attr.aria-invalid]="!!error('staff_role')"
              [attr.aria-describedby]="error('staff_role') ? 'sso-role-error' : null"
            >
              <option value="">{{ i18n.t('sso.no-role') }}</option>
              @for (role of roles(); track role.key) {
                <option [value]="role.key">{{ role.name }}</option>
              }
            </select>
            <agora-field-error [problem]="problem()" field="staff_role" for="sso-role" />
          </div>
          <div class="field">
            <label>
              <input type="checkbox" name="staff_sso_only" [(ngModel)]="ssoOnly" aria-describedby="sso-only-hint" />
              {{ i18n.t('sso.only') }}
            </label>
            <p class="hint" id="sso-only-hint">{{ i18n.t('sso.only-hint') }}</p>
          </div>
        }
        <div class="field">
          <label for="sso-return">{{
            i18n.t(accountKind() === 'staff' ? 'sso.return-path-staff' : 'sso.return-path')
          }}</label>
          <input
            id="sso-return"
            name="return_path"
            [(ngModel)]="returnPath"
            [attr.aria-invalid]="!!error('return_path')"
            [attr.aria-describedby]="
              accountKind() === 'staff'
                ? error('return_path')
                  ? 'sso-return-error sso-return-hint'
                  : 'sso-return-hint'
                : error('return_path')
                  ? 'sso-return-error'
                  : null
            "
          />
          @if (accountKind() === 'staff') {
            <p class="hint" id="sso-return-hint">{{ i18n.t('sso.return-path-staff-hint') }}</p>
          }
          <agora-field-error [problem]="problem()" field="return_path" for="sso-return" />
        </div>
        <div class="field">
          <label for="sso-password">{{ i18n.t('sso.password') }}</label>
          <input
            id="sso-password"
            name="current_password"
            type="password"
            autocomplete="current-password"
            required
            [(ngModel)]="password"
            [attr.aria-invalid]="!!error('current_password')"
            [attr.aria-describedby]="
              error('current_password') ? 'sso-password-error sso-password-hint' : 'sso-password-hint'
            "
          />
          <p class="hint" id="sso-password-hint">{{ i18n.t('sso.password-hint') }}</p>
          <agora-field-error [problem]="problem()" field="current_password" for="sso-password" />
        </div>
        <div class="row">
          <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
          @if (config()) {
            <button class="button danger" type="button" (click)="remove()" [disabled]="busy()">
              {{ i18n.t('sso.remove') }}
            </button>
          }
        </div>
      </form>
    }`,
})
export class SingleSignOnPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly fields = FIELDS;
  protected readonly config = signal<OidcConfig | null>(null);
  protected readonly roles = signal<Role[]>([]);
  protected readonly loaded = signal(false);
  protected readonly issuer = signal('');
  protected readonly clientId = signal('');
  protected readonly clientSecret = signal('');
  protected readonly accountKind = signal<'staff' | 'customer'>('staff');
  protected readonly staffRole = signal('');
  protected readonly ssoOnly = signal(false);
  protected readonly returnPath = signal(STAFF_LANDING);
  protected readonly password = signal('');
  protected readonly notice = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    if (this.session.can('roles.manage')) {
      const roles = await outcome(listRoles());
      if (roles.ok) this.roles.set(roles.data);
    }
    const result = await outcome(getOidcConfig());
    // No provider yet is a 404: an empty form, not an error.
    if (result.ok) {
      this.show(result.data);
    } else if (result.status !== 404) {
      this.problem.set(result.problem);
    }
    this.loaded.set(true);
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected async save(): Promise<void> {
    this.busy.set(true);
    this.notice.set(null);
    const staff = this.accountKind() === 'staff';
    const result = await outcome(
      putOidcConfig({
        body: {
          issuer_url: this.issuer().trim(),
          client_id: this.clientId().trim(),
          client_secret: this.clientSecret() || null,
          account_kind: this.accountKind(),
          return_path: this.returnPath().trim() || null,
          staff_role: staff ? this.staffRole() || null : null,
          staff_sso_only: staff ? this.ssoOnly() : null,
          current_password: this.password(),
        },
      }),
    );
    this.busy.set(false);
    this.password.set('');
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.clientSecret.set('');
    this.show(result.data);
    this.notice.set(this.i18n.t('common.saved'));
  }

  protected async remove(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(deleteOidcConfig());
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.config.set(null);
    this.notice.set(this.i18n.t('sso.removed'));
  }

  /**
   * Who signs in changes where they land by default: staff finish signing in inside this admin
   * (which reads the provider's answer from the address), shoppers in the shop. A path the owner
   * typed stays.
   */
  protected chooseKind(kind: 'staff' | 'customer'): void {
    const path = this.returnPath().trim();
    if (kind === 'staff' && (path === '' || path === CUSTOMER_LANDING)) this.returnPath.set(STAFF_LANDING);
    if (kind === 'customer' && (path === '' || path === STAFF_LANDING)) this.returnPath.set(CUSTOMER_LANDING);
    this.accountKind.set(kind);
  }

  private show(config: OidcConfig): void {
    this.config.set(config);
    this.issuer.set(config.issuer_url);
    this.clientId.set(config.client_id);
    this.accountKind.set(config.account_kind);
    this.staffRole.set(config.staff_role ?? '');
    this.ssoOnly.set(config.staff_sso_only);
    this.returnPath.set(config.return_path);
  }
}
