import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  fieldMessage,
  getShopSettings,
  outcome,
  updateShopSettings,
  type Problem,
  type ShopSettingsAdmin,
} from 'shared';
import { when } from '../../texts/when';

const FIELDS = ['name', 'default_locale', 'locales', 'default_currency', 'timezone'];

/**
 * The shop's name, languages, currency and time zone. Saved with the version it was read at, so
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
        <p class="hint">{{ i18n.t('shop.changed', { who: s.modified_by, when: when(s.modified_at) }) }}</p>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
      </form>
    }`,
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
  protected readonly problem = signal<Problem | null>(null);
  protected readonly saved = signal(false);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    await this.load(false);
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
        },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.saved.set(true);
    this.show(result.data);
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
  }
}
