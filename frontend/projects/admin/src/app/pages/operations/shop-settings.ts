import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  fieldMessage,
  getShopSettings,
  getSoldCurrencies,
  outcome,
  removeShopLogo,
  replaceShopLogo,
  setSoldCurrencies,
  updateShopSettings,
  type Problem,
  type ShopSettingsAdmin,
  type SoldCurrencies,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { when } from '../../texts/when';

const FIELDS = ['name', 'default_locale', 'locales', 'default_currency', 'timezone', 'country', 'brand_colour'];

/**
 * The shop's name, languages, currency, time zone, country, brand colour, logo and the
 * currencies it sells (those are the catalog's: saved through its currencies API, shown here to
 * members who may change the catalog). Saved with the version it was read at, so
 * a colleague's change in between is not overwritten: the 412 offers to reload and reapply.
 */
@Component({
  selector: 'admin-shop-settings',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('shop.title') }}</h1>
    @if (saved()) {
      <p class="notice" role="status">{{ i18n.t('common.saved') }}</p>
    }
    <agora-problem-alert [problem]="problem()" [placed]="placed()" (reload)="reloadAndReapply()" />
    @if (settings(); as s) {
      <form (ngSubmit)="save()" novalidate [attr.aria-label]="i18n.t('shop.title')">
        <div class="field">
          <label for="shop-name">{{ i18n.t('shop.name') }}</label>
          <input
            id="shop-name"
            name="name"
            required
            [(ngModel)]="name"
            [attr.aria-invalid]="!!error('name')"
            [attr.aria-describedby]="error('name') ? 'shop-name-error' : null"
          />
          <agora-field-error [problem]="problem()" field="name" for="shop-name" />
        </div>
        <div class="field">
          <label for="shop-locales">{{ i18n.t('shop.locales') }}</label>
          <input
            id="shop-locales"
            name="locales"
            [(ngModel)]="locales"
            [attr.aria-invalid]="!!localesError()"
            [attr.aria-describedby]="localesError() ? 'shop-locales-error shop-locales-hint' : 'shop-locales-hint'"
          />
          <p class="hint" id="shop-locales-hint">{{ i18n.t('shop.locales-hint') }}</p>
          @if (localesError(); as message) {
            <p class="field-error" id="shop-locales-error">{{ message }}</p>
          }
        </div>
        <div class="field">
          <label for="shop-default-locale">{{ i18n.t('shop.default-locale') }}</label>
          <input
            id="shop-default-locale"
            name="default_locale"
            [(ngModel)]="defaultLocale"
            [attr.aria-invalid]="!!error('default_locale')"
            [attr.aria-describedby]="error('default_locale') ? 'shop-default-locale-error' : null"
          />
          <agora-field-error [problem]="problem()" field="default_locale" for="shop-default-locale" />
        </div>
        <div class="field">
          <label for="shop-currency">{{ i18n.t('shop.currency') }}</label>
          <input
            id="shop-currency"
            name="default_currency"
            maxlength="3"
            [(ngModel)]="currency"
            [attr.aria-invalid]="!!error('default_currency')"
            [attr.aria-describedby]="
              error('default_currency') ? 'shop-currency-error shop-currency-hint' : 'shop-currency-hint'
            "
          />
          <p class="hint" id="shop-currency-hint">{{ i18n.t('shop.currency-hint') }}</p>
          <agora-field-error [problem]="problem()" field="default_currency" for="shop-currency" />
        </div>
        <div class="field">
          <label for="shop-timezone">{{ i18n.t('shop.timezone') }}</label>
          <input
            id="shop-timezone"
            name="timezone"
            [(ngModel)]="timezone"
            [attr.aria-invalid]="!!error('timezone')"
            [attr.aria-describedby]="
              error('timezone') ? 'shop-timezone-error shop-timezone-hint' : 'shop-timezone-hint'
            "
          />
          <p class="hint" id="shop-timezone-hint">{{ i18n.t('shop.timezone-hint') }}</p>
          <agora-field-error [problem]="problem()" field="timezone" for="shop-timezone" />
        </div>
        <div class="field">
          <label for="shop-country">{{ i18n.t('shop.country') }}</label>
          <input
            id="shop-country"
            name="country"
            maxlength="2"
            autocomplete="country"
            [(ngModel)]="country"
            [attr.aria-invalid]="!!error('country')"
            [attr.aria-describedby]="error('country') ? 'shop-country-error shop-country-hint' : 'shop-country-hint'"
          />
          <p class="hint" id="shop-country-hint">{{ i18n.t('shop.country-hint') }}</p>
          <agora-field-error [problem]="problem()" field="country" for="shop-country" />
        </div>
        <div class="field">
          <label for="shop-brand-colour">{{ i18n.t('shop.brand-colour') }}</label>
          <div class="row">
            <input
              id="shop-brand-colour"
              name="brand_colour"
              maxlength="7"
              [(ngModel)]="brandColour"
              [attr.aria-invalid]="!!error('brand_colour')"
              [attr.aria-describedby]="
                error('brand_colour') ? 'shop-brand-colour-error shop-brand-colour-hint' : 'shop-brand-colour-hint'
              "
            />
            <input
              type="color"
              name="brand_colour_picker"
              [ngModel]="pickerColour()"
              (ngModelChange)="brandColour.set($event)"
              [attr.aria-label]="i18n.t('shop.brand-colour-picker')"
            />
          </div>
          <p class="hint" id="shop-brand-colour-hint">{{ i18n.t('shop.brand-colour-hint') }}</p>
          <agora-field-error [problem]="problem()" field="brand_colour" for="shop-brand-colour" />
        </div>
        @if (sold(); as sold) {
          <div class="field">
            <label for="shop-currencies">{{ i18n.t('shop.currencies') }}</label>
            <input
              id="shop-currencies"
              name="currencies"
              [(ngModel)]="currencies"
              [attr.aria-invalid]="!!currencyError()"
              [attr.aria-describedby]="
                currencyError() ? 'shop-currencies-error shop-currencies-hint' : 'shop-currencies-hint'
              "
            />
            <p class="hint" id="shop-currencies-hint">
              {{ i18n.t('shop.currencies-hint', { currency: sold.default_currency }) }}
            </p>
            @if (currencyError(); as message) {
              <p class="field-error" id="shop-currencies-error">{{ message }}</p>
            }
          </div>
        }
        <p class="hint">{{ i18n.t('shop.changed', { who: s.modified_by, when: when(s.modified_at) }) }}</p>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
      </form>
      <section class="card" aria-labelledby="shop-logo-title">
        <h2 id="shop-logo-title">{{ i18n.t('shop.logo') }}</h2>
        @if (s.logo_url) {
          <img class="logo-preview" [src]="s.logo_url" [alt]="i18n.t('shop.logo-current')" />
        } @else {
          <p>{{ i18n.t('shop.no-logo') }}</p>
        }
        <div class="field">
          <label for="shop-logo">{{ i18n.t('shop.logo-file') }}</label>
          <input
            id="shop-logo"
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif"
            [disabled]="busy()"
            [attr.aria-invalid]="!!logoError()"
            [attr.aria-describedby]="logoError() ? 'shop-logo-error shop-logo-hint' : 'shop-logo-hint'"
            (change)="uploadLogo($event)"
          />
          <p class="hint" id="shop-logo-hint">{{ i18n.t('shop.logo-hint') }}</p>
          @if (logoError(); as message) {
            <p class="field-error" id="shop-logo-error" role="alert">{{ message }}</p>
          }
        </div>
        @if (s.logo_url) {
          <button type="button" class="button secondary" [disabled]="busy()" (click)="removeLogo()">
            {{ i18n.t('shop.remove-logo') }}
          </button>
        }
        <p class="visually-hidden" role="status">{{ logoStatus() }}</p>
      </section>
    }`,
  styles: `
    .logo-preview {
      display: block;
      max-width: 16rem;
      max-height: 6rem;
      margin-bottom: var(--space-3);
    }
    input[type='color'] {
      inline-size: 3rem;
      block-size: 2.5rem;
      padding: 0;
    }
  `,
})
export class ShopSettingsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  /** The fields shown under their inputs; `locales[2]` (one bad tag) shows under the languages. */
  protected readonly placed = computed(() => [
    ...FIELDS,
    ...(this.problem()?.errors ?? []).map((e) => e.field).filter((f) => f.startsWith('locales[')),
  ]);
  protected readonly settings = signal<ShopSettingsAdmin | null>(null);
  protected readonly name = signal('');
  protected readonly locales = signal('');
  protected readonly defaultLocale = signal('');
  protected readonly currency = signal('');
  protected readonly timezone = signal('');
  protected readonly country = signal('');
  protected readonly brandColour = signal('');
  /** The colour picker shows the typed colour when it is one, else the admin's own blue. */
  protected readonly pickerColour = computed(() =>
    /^#[0-9a-fA-F]{6}$/.test(this.brandColour()) ? this.brandColour().toLowerCase() : '#1d4ed8',
  );
  /** The catalog's sold currencies, for members who may change them (else not shown). */
  protected readonly sold = signal<SoldCurrencies | null>(null);
  protected readonly currencies = signal('');
  protected readonly currencyProblem = signal<Problem | null>(null);
  protected readonly currencyError = computed(() => {
    const wrong = (this.currencyProblem()?.errors ?? []).find((e) => e.field.startsWith('currencies'));
    return wrong ? wrong.message : (this.currencyProblem()?.title ?? null);
  });
  protected readonly logoError = signal<string | null>(null);
  protected readonly logoStatus = signal('');
  private readonly session = inject(StaffSession);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly saved = signal(false);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    await Promise.all([this.load(false), this.loadCurrencies()]);
  }

  private async loadCurrencies(): Promise<void> {
    if (!this.session.can('catalog.manage')) return;
    const result = await outcome(getSoldCurrencies());
    if (!result.ok) return;
    this.sold.set(result.data);
    this.currencies.set(result.data.currencies.filter((c) => c !== result.data.default_currency).join(', '));
  }

  /** The other currencies as typed, when they differ from the catalog's. */
  private changedCurrencies(): string[] | null {
    const sold = this.sold();
    if (!sold) return null;
    const typed = this.currencies()
      .split(',')
      .map((c) => c.trim().toUpperCase())
      .filter(Boolean);
    const others = sold.currencies.filter((c) => c !== sold.default_currency);
    return typed.join(',') === others.join(',') ? null : typed;
  }

  protected async uploadLogo(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    const current = this.settings();
    if (!file || !current) return;
    this.busy.set(true);
    this.logoError.set(null);
    const result = await outcome(
      replaceShopLogo({
        headers: { 'If-Match': `"${current.version}"`, 'Content-Type': file.type || 'application/octet-stream' },
        body: file,
      }),
    );
    this.busy.set(false);
    input.value = '';
    if (!result.ok) {
      if (result.status === 412) {
        this.problem.set(result.problem);
      } else if (result.status === 413) {
        this.logoError.set(this.i18n.t('shop.logo-too-large', { name: file.name }));
      } else {
        const message = fieldMessage(result.problem, 'file') ?? result.problem.title;
        this.logoError.set(`${file.name}: ${message}`);
      }
      return;
    }
    // The form keeps what the member typed; only the version and the logo are new.
    this.settings.set(result.data);
    this.logoStatus.set(this.i18n.t('shop.logo-saved'));
  }

  protected async removeLogo(): Promise<void> {
    const current = this.settings();
    if (!current) return;
    this.busy.set(true);
    const result = await outcome(removeShopLogo({ headers: { 'If-Match': `"${current.version}"` } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.settings.set(result.data);
    this.logoStatus.set(this.i18n.t('shop.logo-removed'));
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected localesError(): string | null {
    const errors = this.problem()?.errors ?? [];
    const wrong = errors.find((e) => e.field === 'locales' || e.field.startsWith('locales['));
    return wrong ? wrong.message : null;
  }

  /** After a 412: take the stored settings and version, keep what the member typed on top. */
  protected async reloadAndReapply(): Promise<void> {
    await this.load(true);
  }

  protected async save(): Promise<void> {
    const current = this.settings();
    if (!current) return;
    this.busy.set(true);
    this.saved.set(false);
    const result = await outcome(
      updateShopSettings({
        headers: { 'If-Match': `"${current.version}"` },
        body: {
          name: this.name().trim(),
          locales: this.locales()
            .split(',')
            .map((l) => l.trim())
            .filter(Boolean),
          default_locale: this.defaultLocale().trim(),
          default_currency: this.currency().trim().toUpperCase(),
          timezone: this.timezone().trim(),
          country: this.country().trim() ? this.country().trim().toUpperCase() : null,
          brand_colour: this.brandColour().trim() ? this.brandColour().trim() : null,
        },
      }),
    );
    if (!result.ok) {
      this.busy.set(false);
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.show(result.data);
    const currencies = this.changedCurrencies();
    if (currencies) {
      const sold = await outcome(setSoldCurrencies({ body: { currencies } }));
      if (!sold.ok) {
        this.busy.set(false);
        this.currencyProblem.set(sold.problem);
        return;
      }
      this.currencyProblem.set(null);
      this.sold.set(sold.data);
    }
    this.busy.set(false);
    this.saved.set(true);
  }

  private async load(keepEdits: boolean): Promise<void> {
    const result = await outcome(getShopSettings());
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    if (keepEdits) {
      this.settings.set(result.data);
    } else {
      this.show(result.data);
    }
  }

  private show(settings: ShopSettingsAdmin): void {
    this.settings.set(settings);
    this.name.set(settings.name);
    this.locales.set(settings.locales.join(', '));
    this.defaultLocale.set(settings.default_locale);
    this.currency.set(settings.default_currency);
    this.timezone.set(settings.timezone);
    this.country.set(settings.country ?? '');
    this.brandColour.set(settings.brand_colour ?? '');
  }
}
