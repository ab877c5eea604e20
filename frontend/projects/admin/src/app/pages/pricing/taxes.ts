import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  createTaxClass,
  createTaxZone,
  deleteTaxClass,
  deleteTaxZone,
  etagOf,
  fieldMessage,
  getTaxSettings,
  listProducts,
  listTaxClasses,
  listTaxZones,
  outcome,
  previewTaxes,
  renameTaxClass,
  replaceTaxZone,
  updateTaxSettings,
  type Problem,
  type TaxBreakdown,
  type TaxClass,
  type TaxZone,
} from 'shared';
import { PRICING_TAXES } from '../../texts/pricing-taxes';
import { StaffSession } from '../../staff-session';
import { CatalogShop, ifMatch, pick } from '../catalog/catalog-support';
import { localProblem } from '../inventory/inventory-support';
import {
  emptyZone,
  lineNumber,
  money,
  previewBody,
  rateText,
  rateSummaries,
  rateable,
  settingsBody,
  settingsForm,
  zoneBody,
  zoneForm,
  type FieldSlip,
  type PreviewForm,
  type SettingsForm,
  type ZoneForm,
} from './taxes-support';

/** The standard class's id (built in, the same in every shop). */
const STANDARD = '00000000-0000-7000-8000-000000000001';

/** Indexes 0–99 of a list field (`rates[3]`), for the messages shown at each row's fields. */
const indexed = (field: string) => Array.from({ length: 100 }, (_, i) => `${field}[${i}]`);
const SETTINGS_PLACED = ['origin_country', 'shipping_tax_class_id', 'cross_border', 'rounding', 'shipping_tax'];
const ZONE_PLACED = [
  'name',
  'country',
  'region',
  'postcodes',
  'rates',
  ...indexed('postcodes'),
  ...indexed('rates').flatMap((rate) => [`${rate}.tax_class_id`, `${rate}.name`, `${rate}.percent`]),
];
const PREVIEW_PLACED = [
  'destination.country',
  'destination.region',
  'destination.postal_code',
  'shipping',
  'customer_id',
  ...indexed('lines').map((line) => `${line}.amount`),
];

function emptySettings(): SettingsForm {
  return {
    pricesIncludeTax: true,
    crossBorder: 'keep_gross',
    rounding: 'per_line',
    shippingTax: 'highest_rate',
    shippingClassId: '',
    originCountry: '',
  };
}

function emptyPreview(): PreviewForm {
  return {
    country: '',
    region: '',
    postalCode: '',
    currency: '',
    lines: [
      { amount: '', productId: '' },
      { amount: '', productId: '' },
    ],
    shipping: '',
    customerId: '',
  };
}

/**
 * How the shop taxes what it sells: its settings (prices with or without tax, rounding,
 * shipping), its tax classes, the zones with their rates per class, and a preview that taxes a
 * basket the way the cart and checkout will.
 */
@Component({
  selector: 'admin-taxes',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.taxes.title') }}</h1>
    <p>{{ i18n.t('pricing.taxes.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" (reload)="load()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }

    <section class="card" aria-labelledby="tax-settings-title">
      <h2 id="tax-settings-title">{{ i18n.t('pricing.taxes.settings') }}</h2>
      <agora-problem-alert [problem]="settingsProblem()" [placed]="settingsPlaced" (reload)="loadSettings()" />
      @if (!settingsLoaded()) {
        <p>{{ i18n.t('common.loading') }}</p>
      } @else {
        <form (ngSubmit)="saveSettings()" novalidate>
          <fieldset class="plain" [disabled]="!canManage()">
            <fieldset>
              <legend>{{ i18n.t('pricing.taxes.prices-entered') }}</legend>
              <label class="inline">
                <input
                  type="radio"
                  name="prices_include_tax"
                  [value]="true"
                  [(ngModel)]="settings().pricesIncludeTax"
                />
                {{ i18n.t('pricing.taxes.prices-gross') }}
              </label>
              <label class="inline">
                <input
                  type="radio"
                  name="prices_include_tax"
                  [value]="false"
                  [(ngModel)]="settings().pricesIncludeTax"
                />
                {{ i18n.t('pricing.taxes.prices-net') }}
              </label>
            </fieldset>
            <div class="grid-3">
              <div class="field">
                <label for="tax-cross-border">{{ i18n.t('pricing.taxes.cross-border') }}</label>
                <select
                  id="tax-cross-border"
                  name="cross_border"
                  [(ngModel)]="settings().crossBorder"
                  aria-describedby="tax-cross-border-hint tax-cross-border-error"
                >
                  <option value="keep_gross">{{ i18n.t('pricing.taxes.cross-border.keep_gross') }}</option>
                  <option value="keep_net">{{ i18n.t('pricing.taxes.cross-border.keep_net') }}</option>
                </select>
                <p class="hint" id="tax-cross-border-hint">{{ i18n.t('pricing.taxes.cross-border-hint') }}</p>
                <agora-field-error [problem]="settingsProblem()" field="cross_border" for="tax-cross-border" />
              </div>
              <div class="field">
                <label for="tax-origin">{{ i18n.t('pricing.taxes.origin') }}</label>
                <input
                  id="tax-origin"
                  name="origin_country"
                  maxlength="2"
                  autocomplete="off"
                  [(ngModel)]="settings().originCountry"
                  aria-describedby="tax-origin-hint tax-origin-error"
                />
                <p class="hint" id="tax-origin-hint">{{ i18n.t('pricing.taxes.origin-hint') }}</p>
                <agora-field-error [problem]="settingsProblem()" field="origin_country" for="tax-origin" />
              </div>
              <div class="field">
                <label for="tax-rounding">{{ i18n.t('pricing.taxes.rounding') }}</label>
                <select id="tax-rounding" name="rounding" [(ngModel)]="settings().rounding">
                  <option value="per_line">{{ i18n.t('pricing.taxes.rounding.per_line') }}</option>
                  <option value="per_total">{{ i18n.t('pricing.taxes.rounding.per_total') }}</option>
                </select>
                <agora-field-error [problem]="settingsProblem()" field="rounding" for="tax-rounding" />
              </div>
              <div class="field">
                <label for="tax-shipping">{{ i18n.t('pricing.taxes.shipping-tax') }}</label>
                <select id="tax-shipping" name="shipping_tax" [(ngModel)]="settings().shippingTax">
                  <option value="highest_rate">{{ i18n.t('pricing.taxes.shipping-tax.highest_rate') }}</option>
                  <option value="tax_class">{{ i18n.t('pricing.taxes.shipping-tax.tax_class') }}</option>
                  <option value="not_taxed">{{ i18n.t('pricing.taxes.shipping-tax.not_taxed') }}</option>
                </select>
                <agora-field-error [problem]="settingsProblem()" field="shipping_tax" for="tax-shipping" />
              </div>
              @if (settings().shippingTax === 'tax_class') {
                <div class="field">
                  <label for="tax-shipping-class">{{ i18n.t('pricing.taxes.shipping-class') }}</label>
                  <select id="tax-shipping-class" name="shipping_tax_class_id" [(ngModel)]="settings().shippingClassId">
                    <option value="">{{ i18n.t('pricing.taxes.choose-class') }}</option>
                    @for (c of classes(); track c.id) {
                      <option [value]="c.id">{{ c.name }}</option>
                    }
                  </select>
                  <agora-field-error
                    [problem]="settingsProblem()"
                    field="shipping_tax_class_id"
                    for="tax-shipping-class"
                  />
                </div>
              }
            </div>
          </fieldset>
          @if (canManage()) {
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t('pricing.taxes.save-settings') }}
            </button>
          }
        </form>
      }
    </section>

    <section class="card" aria-labelledby="tax-classes-title">
      <h2 id="tax-classes-title">{{ i18n.t('pricing.taxes.classes') }}</h2>
      <p>{{ i18n.t('pricing.taxes.classes-intro') }}</p>
      <agora-problem-alert [problem]="classProblem()" [placed]="['name']" (reload)="load()" />
      <div class="table-scroll">
        <table>
          <caption class="visually-hidden">
            {{
              i18n.t('pricing.taxes.classes')
            }}
          </caption>
          <thead>
            <tr>
              <th scope="col">{{ i18n.t('pricing.taxes.class-name') }}</th>
              <th scope="col">{{ i18n.t('pricing.taxes.kind') }}</th>
              @if (canManage()) {
                <th scope="col">{{ i18n.t('pricing.actions') }}</th>
              }
            </tr>
          </thead>
          <tbody>
            @for (c of classes(); track c.id) {
              <tr>
                <td>{{ c.name }}</td>
                <td>{{ i18n.t('pricing.taxes.kind.' + c.kind) }}</td>
                @if (canManage()) {
                  <td class="row">
                    <button type="button" class="button secondary" (click)="renameClass(c)">
                      {{ i18n.t('pricing.taxes.rename-class', { name: c.name }) }}
                    </button>
                    @if (!c.built_in) {
                      <button
                        type="button"
                        class="button secondary"
                        (click)="removeClass(c)"
                        [attr.aria-label]="i18n.t('pricing.taxes.delete-class', { name: c.name })"
                      >
                        {{ i18n.t('pricing.delete') }}
                      </button>
                    }
                  </td>
                }
              </tr>
            } @empty {
              <tr>
                <td [attr.colspan]="canManage() ? 3 : 2">{{ i18n.t('common.loading') }}</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (canManage()) {
        <form (ngSubmit)="saveClass()" novalidate class="row">
          <div class="field">
            <label for="class-name">{{
              renaming()
                ? i18n.t('pricing.taxes.new-name-of', { name: renaming()!.name })
                : i18n.t('pricing.taxes.new-class')
            }}</label>
            <input id="class-name" name="class_name" maxlength="100" [(ngModel)]="className" />
            <agora-field-error [problem]="classProblem()" field="name" for="class-name" />
          </div>
          <button class="button" type="submit" [disabled]="busy()">
            {{ i18n.t(renaming() ? 'pricing.taxes.rename' : 'pricing.taxes.add-class') }}
          </button>
          @if (renaming()) {
            <button type="button" class="button secondary" (click)="closeClass()">
              {{ i18n.t('common.cancel') }}
            </button>
          }
        </form>
      }
    </section>

    <section class="card" aria-labelledby="tax-zones-title">
      <h2 id="tax-zones-title">{{ i18n.t('pricing.taxes.zones') }}</h2>
      <p>{{ i18n.t('pricing.taxes.zones-intro') }}</p>
      <div class="table-scroll">
        <table>
          <caption class="visually-hidden">
            {{
              i18n.t('pricing.taxes.zones')
            }}
          </caption>
          <thead>
            <tr>
              <th scope="col">{{ i18n.t('pricing.taxes.zone') }}</th>
              <th scope="col">{{ i18n.t('pricing.taxes.where') }}</th>
              <th scope="col">{{ i18n.t('pricing.taxes.rates') }}</th>
              <th scope="col">{{ i18n.t('pricing.taxes.shipping-taxed') }}</th>
              @if (canManage()) {
                <th scope="col">{{ i18n.t('pricing.actions') }}</th>
              }
            </tr>
          </thead>
          <tbody>
            @for (z of zones(); track z.id) {
              <tr>
                <td>{{ z.name }}</td>
                <td>{{ where(z) }}</td>
                <td>
                  @for (r of summaries(z); track $index) {
                    <div>{{ r.className }}: {{ r.text }}</div>
                  } @empty {
                    {{ i18n.t('pricing.taxes.no-rates') }}
                  }
                </td>
                <td>{{ i18n.t(z.shipping_taxable ? 'pricing.taxes.yes' : 'pricing.taxes.no') }}</td>
                @if (canManage()) {
                  <td class="row">
                    <button
                      type="button"
                      class="button secondary"
                      (click)="editZone(z)"
                      [attr.aria-label]="i18n.t('pricing.taxes.edit-zone', { name: z.name })"
                    >
                      {{ i18n.t('pricing.edit') }}
                    </button>
                    <button
                      type="button"
                      class="button secondary"
                      (click)="removeZone(z)"
                      [attr.aria-label]="i18n.t('pricing.taxes.delete-zone', { name: z.name })"
                    >
                      {{ i18n.t('pricing.delete') }}
                    </button>
                  </td>
                }
              </tr>
            } @empty {
              <tr>
                <td [attr.colspan]="canManage() ? 5 : 4">
                  {{ i18n.t(loading() ? 'common.loading' : 'pricing.taxes.no-zones') }}
                </td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    </section>

    @if (canManage() && !loading()) {
      <section class="card" aria-labelledby="zone-form-title">
        <h2 id="zone-form-title">
          {{
            editingZone()
              ? i18n.t('pricing.taxes.edit-zone', { name: editingZone()!.name })
              : i18n.t('pricing.taxes.new-zone')
          }}
        </h2>
        <agora-problem-alert [problem]="zoneProblem()" [placed]="zonePlaced" (reload)="load()" />
        <form (ngSubmit)="saveZone()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="tax-zone-name">{{ i18n.t('pricing.taxes.zone-name') }}</label>
              <input id="tax-zone-name" name="name" maxlength="200" [(ngModel)]="zone().name" />
              <agora-field-error [problem]="zoneProblem()" field="name" for="tax-zone-name" />
            </div>
            <div class="field">
              <label for="tax-zone-country">{{ i18n.t('pricing.taxes.country') }}</label>
              <input
                id="tax-zone-country"
                name="country"
                maxlength="2"
                autocomplete="off"
                [(ngModel)]="zone().country"
                aria-describedby="tax-zone-country-hint tax-zone-country-error"
              />
              <p class="hint" id="tax-zone-country-hint">{{ i18n.t('pricing.taxes.country-hint') }}</p>
              <agora-field-error [problem]="zoneProblem()" field="country" for="tax-zone-country" />
            </div>
            <div class="field">
              <label for="tax-zone-region">{{ i18n.t('pricing.taxes.region-optional') }}</label>
              <input
                id="tax-zone-region"
                name="region"
                maxlength="10"
                autocomplete="off"
                [(ngModel)]="zone().region"
                aria-describedby="tax-zone-region-hint tax-zone-region-error"
              />
              <p class="hint" id="tax-zone-region-hint">{{ i18n.t('pricing.taxes.region-hint') }}</p>
              <agora-field-error [problem]="zoneProblem()" field="region" for="tax-zone-region" />
            </div>
          </div>
          <div class="field">
            <label for="tax-zone-postcodes">{{ i18n.t('pricing.taxes.postcodes') }}</label>
            <input
              id="tax-zone-postcodes"
              name="postcodes"
              [(ngModel)]="zone().postcodes"
              aria-describedby="tax-zone-postcodes-hint tax-zone-postcodes-error"
            />
            <p class="hint" id="tax-zone-postcodes-hint">{{ i18n.t('pricing.taxes.postcodes-hint') }}</p>
            @if (postcodeError(); as message) {
              <p class="field-error" id="tax-zone-postcodes-error">{{ message }}</p>
            }
          </div>
          <label class="inline">
            <input type="checkbox" name="shipping_taxable" [(ngModel)]="zone().shippingTaxable" />
            {{ i18n.t('pricing.taxes.zone-shipping') }}
          </label>
          <fieldset>
            <legend>{{ i18n.t('pricing.taxes.rates') }}</legend>
            <p class="hint">{{ i18n.t('pricing.taxes.rates-hint') }}</p>
            @for (rate of zone().rates; track $index; let i = $index) {
              <div class="grid-3">
                <div class="field">
                  <label [for]="'rate-class-' + i">{{ i18n.t('pricing.taxes.rate-class', { n: i + 1 }) }}</label>
                  <select [id]="'rate-class-' + i" [name]="'rate_class_' + i" [(ngModel)]="rate.classId">
                    @for (c of rateableClasses(); track c.id) {
                      <option [value]="c.id">{{ c.name }}</option>
                    }
                  </select>
                  <agora-field-error
                    [problem]="zoneProblem()"
                    [field]="'rates[' + i + '].tax_class_id'"
                    [for]="'rate-class-' + i"
                  />
                </div>
                <div class="field">
                  <label [for]="'rate-name-' + i">{{ i18n.t('pricing.taxes.rate-name', { n: i + 1 }) }}</label>
                  <input [id]="'rate-name-' + i" [name]="'rate_name_' + i" maxlength="100" [(ngModel)]="rate.name" />
                  <agora-field-error
                    [problem]="zoneProblem()"
                    [field]="'rates[' + i + '].name'"
                    [for]="'rate-name-' + i"
                  />
                </div>
                <div class="field">
                  <label [for]="'rate-percent-' + i">{{ i18n.t('pricing.taxes.rate-percent', { n: i + 1 }) }}</label>
                  <input
                    [id]="'rate-percent-' + i"
                    [name]="'rate_percent_' + i"
                    inputmode="decimal"
                    [(ngModel)]="rate.percent"
                  />
                  <agora-field-error
                    [problem]="zoneProblem()"
                    [field]="'rates[' + i + '].percent'"
                    [for]="'rate-percent-' + i"
                  />
                </div>
              </div>
            }
            <button type="button" class="button secondary" (click)="addRate()">
              {{ i18n.t('pricing.taxes.add-rate') }}
            </button>
            <agora-field-error [problem]="zoneProblem()" field="rates" for="rate-class-0" />
          </fieldset>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editingZone() ? 'pricing.save' : 'pricing.taxes.create-zone') }}
            </button>
            @if (editingZone()) {
              <button type="button" class="button secondary" (click)="closeZone()">
                {{ i18n.t('common.cancel') }}
              </button>
            }
          </div>
        </form>
      </section>
    }

    <section class="card" aria-labelledby="tax-preview-title">
      <h2 id="tax-preview-title">{{ i18n.t('pricing.taxes.preview') }}</h2>
      <p>{{ i18n.t('pricing.taxes.preview-intro') }}</p>
      <agora-problem-alert [problem]="previewProblem()" [placed]="previewPlaced" />
      <form (ngSubmit)="runPreview()" novalidate>
        <div class="grid-3">
          <div class="field">
            <label for="tax-preview-country">{{ i18n.t('pricing.taxes.country') }}</label>
            <input
              id="tax-preview-country"
              name="country"
              maxlength="2"
              autocomplete="off"
              [(ngModel)]="preview().country"
            />
            <agora-field-error [problem]="previewProblem()" field="destination.country" for="tax-preview-country" />
          </div>
          <div class="field">
            <label for="tax-preview-region">{{ i18n.t('pricing.taxes.region-optional') }}</label>
            <input id="tax-preview-region" name="region" autocomplete="off" [(ngModel)]="preview().region" />
            <agora-field-error [problem]="previewProblem()" field="destination.region" for="tax-preview-region" />
          </div>
          <div class="field">
            <label for="tax-preview-postcode">{{ i18n.t('pricing.taxes.postcode-optional') }}</label>
            <input id="tax-preview-postcode" name="postal_code" autocomplete="off" [(ngModel)]="preview().postalCode" />
            <agora-field-error
              [problem]="previewProblem()"
              field="destination.postal_code"
              for="tax-preview-postcode"
            />
          </div>
          <div class="field">
            <label for="tax-preview-currency">{{ i18n.t('pricing.currency') }}</label>
            <select id="tax-preview-currency" name="currency" [(ngModel)]="preview().currency">
              @for (c of shop.currencies(); track c) {
                <option [value]="c">{{ c }}</option>
              }
            </select>
          </div>
          <div class="field">
            <label for="tax-preview-shipping">{{ i18n.t('pricing.taxes.shipping-amount') }}</label>
            <input id="tax-preview-shipping" name="shipping" inputmode="decimal" [(ngModel)]="preview().shipping" />
            <agora-field-error [problem]="previewProblem()" field="shipping" for="tax-preview-shipping" />
          </div>
          <div class="field">
            <label for="tax-preview-customer">{{ i18n.t('pricing.taxes.customer') }}</label>
            <input
              id="tax-preview-customer"
              name="customer_id"
              autocomplete="off"
              [(ngModel)]="preview().customerId"
              aria-describedby="tax-preview-customer-hint tax-preview-customer-error"
            />
            <p class="hint" id="tax-preview-customer-hint">{{ i18n.t('pricing.taxes.customer-hint') }}</p>
            <agora-field-error [problem]="previewProblem()" field="customer_id" for="tax-preview-customer" />
          </div>
        </div>
        <fieldset>
          <legend>{{ i18n.t('pricing.taxes.lines') }}</legend>
          <p class="hint">{{ i18n.t(pricesIncludeTax() ? 'pricing.taxes.lines-gross' : 'pricing.taxes.lines-net') }}</p>
          <div class="field">
            <label for="tax-preview-find">{{ i18n.t('pricing.taxes.find-products') }}</label>
            <div class="row">
              <input
                id="tax-preview-find"
                type="search"
                autocomplete="off"
                [value]="productTerm()"
                (input)="productTerm.set($any($event.target).value)"
                (keydown.enter)="$event.preventDefault(); findProducts()"
              />
              <button type="button" class="button secondary" (click)="findProducts()">
                {{ i18n.t('pricing.taxes.find') }}
              </button>
            </div>
            @if (productsFound() !== null) {
              <p class="hint" role="status">
                {{ i18n.t('pricing.taxes.products-found', { n: productsFound() ?? 0 }) }}
              </p>
            }
          </div>
          @for (line of preview().lines; track $index; let i = $index) {
            <div class="grid-3">
              <div class="field">
                <label [for]="'tax-line-amount-' + i">{{ i18n.t('pricing.taxes.line-amount', { n: i + 1 }) }}</label>
                <input
                  [id]="'tax-line-amount-' + i"
                  [name]="'line_amount_' + i"
                  inputmode="decimal"
                  [(ngModel)]="line.amount"
                />
                <agora-field-error
                  [problem]="previewProblem()"
                  [field]="'lines[' + i + '].amount'"
                  [for]="'tax-line-amount-' + i"
                />
              </div>
              <div class="field">
                <label [for]="'tax-line-product-' + i">{{ i18n.t('pricing.taxes.line-product', { n: i + 1 }) }}</label>
                <select [id]="'tax-line-product-' + i" [name]="'line_product_' + i" [(ngModel)]="line.productId">
                  <option value="">{{ i18n.t('pricing.taxes.any-product') }}</option>
                  @for (p of products(); track p.id) {
                    <option [value]="p.id">{{ p.name }}</option>
                  }
                </select>
              </div>
            </div>
          }
          <button type="button" class="button secondary" (click)="addLine()">
            {{ i18n.t('pricing.taxes.add-line') }}
          </button>
        </fieldset>
        <button class="button" type="submit">{{ i18n.t('pricing.taxes.run-preview') }}</button>
      </form>
      @if (breakdown(); as b) {
        <div aria-live="polite">
          <p>
            {{
              b.zone
                ? i18n.t('pricing.taxes.applied-zone', { name: b.zone.name })
                : i18n.t('pricing.taxes.no-zone-matched')
            }}
            @if (b.reverse_charge) {
              {{ i18n.t('pricing.taxes.reverse-charge') }}
            }
          </p>
          <div class="table-scroll">
            <table>
              <caption>
                {{
                  i18n.t('pricing.taxes.breakdown')
                }}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{{ i18n.t('pricing.taxes.item') }}</th>
                  <th scope="col">{{ i18n.t('pricing.taxes.net') }}</th>
                  <th scope="col">{{ i18n.t('pricing.taxes.tax') }}</th>
                  <th scope="col">{{ i18n.t('pricing.taxes.gross') }}</th>
                </tr>
              </thead>
              <tbody>
                @for (l of b.lines; track l.key) {
                  <tr>
                    <th scope="row">{{ lineLabel(l.key, l.tax_class_id) }}</th>
                    <td>{{ money(l.net) }}</td>
                    <td>{{ money(l.tax) }}</td>
                    <td>{{ money(l.gross) }}</td>
                  </tr>
                }
                @if (b.shipping; as s) {
                  <tr>
                    <th scope="row">{{ i18n.t('pricing.taxes.shipping') }}</th>
                    <td>{{ money(s.net) }}</td>
                    <td>{{ money(s.tax) }}</td>
                    <td>{{ money(s.gross) }}</td>
                  </tr>
                }
                @for (t of b.taxes; track $index) {
                  <tr>
                    <th scope="row">{{ rate(t.name, t.percent) }}</th>
                    <td></td>
                    <td>{{ money(t.amount) }}</td>
                    <td></td>
                  </tr>
                }
                <tr>
                  <th scope="row">{{ i18n.t('pricing.taxes.total') }}</th>
                  <td>{{ money(b.net_total) }}</td>
                  <td>{{ money(b.tax_total) }}</td>
                  <td>{{ money(b.total) }}</td>
                </tr>
              </tbody>
            </table>
          </div>
        </div>
      }
    </section>`,
})
export class TaxesPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('pricing.manage'));
  protected readonly classes = signal<TaxClass[]>([]);
  protected readonly rateableClasses = computed(() => rateable(this.classes()));
  protected readonly zones = signal<TaxZone[]>([]);
  protected readonly loading = signal(true);
  protected readonly busy = signal(false);
  protected readonly notice = signal('');
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly settingsProblem = signal<Problem | null>(null);
  protected readonly classProblem = signal<Problem | null>(null);
  protected readonly zoneProblem = signal<Problem | null>(null);
  protected readonly previewProblem = signal<Problem | null>(null);
  protected readonly settings = signal<SettingsForm>(emptySettings());
  /** Whether the settings were read (the form waits for them, so nothing typed is overwritten). */
  protected readonly settingsLoaded = signal(false);
  /** Whether prices are entered with tax, as last saved (what the preview's amounts mean). */
  protected readonly pricesIncludeTax = signal(true);
  protected readonly renaming = signal<TaxClass | null>(null);
  protected className = '';
  protected readonly editingZone = signal<TaxZone | null>(null);
  protected readonly zone = signal<ZoneForm>(emptyZone(STANDARD));
  protected readonly preview = signal<PreviewForm>(emptyPreview());
  protected readonly breakdown = signal<TaxBreakdown | null>(null);
  protected readonly productTerm = signal('');
  protected readonly products = signal<{ id: string; name: string }[]>([]);
  protected readonly productsFound = signal<number | null>(null);
  protected readonly settingsPlaced = SETTINGS_PLACED;
  protected readonly zonePlaced = ZONE_PLACED;
  protected readonly previewPlaced = PREVIEW_PLACED;
  /** The ETag of the settings as last read or saved. */
  private settingsVersion: string | null = null;

  constructor() {
    this.i18n.register(PRICING_TAXES);
  }

  async ngOnInit(): Promise<void> {
    await Promise.all([this.load(), this.loadSettings(), this.shop.ensureLoaded()]);
    this.preview.update((p) => ({ ...p, currency: p.currency || this.shop.defaultCurrency() }));
  }

  protected where(z: TaxZone): string {
    const parts = [z.country];
    if (z.region) parts.push(this.i18n.t('pricing.taxes.region-is', { region: z.region }));
    if (z.postcodes.length) parts.push(this.i18n.t('pricing.taxes.postcodes-are', { list: z.postcodes.join(', ') }));
    return parts.join(' · ');
  }

  protected summaries(z: TaxZone) {
    return rateSummaries(z, this.classes(), this.i18n.locale());
  }

  protected rate(name: string, percent: string): string {
    return rateText(name, percent, this.i18n.locale());
  }

  protected money(value: { amount: number; currency: string }): string {
    return money(value);
  }

  protected lineLabel(key: string, classId: string): string {
    const n = lineNumber(key);
    const row = n === null ? null : this.preview().lines[n - 1];
    const product = row?.productId ? this.products().find((p) => p.id === row.productId)?.name : null;
    const taxClass = this.classes().find((c) => c.id === classId)?.name ?? classId;
    const line = n === null ? key : this.i18n.t('pricing.taxes.line', { n });
    return product ? `${line}: ${product} (${taxClass})` : `${line} (${taxClass})`;
  }

  /** The postcodes' own message, or the first about one of them. */
  protected postcodeError(): string | null {
    const p = this.zoneProblem();
    return fieldMessage(p, 'postcodes') ?? p?.errors?.find((e) => e.field.startsWith('postcodes['))?.message ?? null;
  }

  private slipMessage(slip: FieldSlip): string {
    const key = {
      percent: 'pricing.taxes.percent-expected',
      amount: 'pricing.amount-expected',
      uuid: 'pricing.taxes.uuid-expected',
    }[slip.reason];
    return this.i18n.t(key);
  }

  // --- settings ---

  async loadSettings(): Promise<void> {
    const call = getTaxSettings();
    const result = await outcome(call);
    if (!result.ok) {
      this.settingsProblem.set(result.problem);
      return;
    }
    this.settingsProblem.set(null);
    this.settings.set(settingsForm(result.data));
    this.pricesIncludeTax.set(result.data.prices_include_tax);
    this.settingsVersion = await etagOf(call);
    this.settingsLoaded.set(true);
  }

  protected async saveSettings(): Promise<void> {
    this.busy.set(true);
    const call = updateTaxSettings({
      headers: this.settingsVersion ? { 'If-Match': this.settingsVersion } : {},
      body: settingsBody(this.settings()),
    });
    const result = await outcome(call);
    this.busy.set(false);
    if (!result.ok) {
      this.settingsProblem.set(result.problem);
      return;
    }
    this.settingsProblem.set(null);
    this.settings.set(settingsForm(result.data));
    this.pricesIncludeTax.set(result.data.prices_include_tax);
    this.settingsVersion = await etagOf(call);
    this.notice.set(this.i18n.t('pricing.taxes.settings-saved'));
  }

  // --- classes ---

  protected renameClass(c: TaxClass): void {
    this.renaming.set(c);
    this.className = c.name;
    this.classProblem.set(null);
    setTimeout(() => document.getElementById('class-name')?.focus());
  }

  protected closeClass(): void {
    this.renaming.set(null);
    this.className = '';
    this.classProblem.set(null);
  }

  protected async saveClass(): Promise<void> {
    const body = { name: this.className.trim() };
    const renaming = this.renaming();
    this.busy.set(true);
    const result = renaming
      ? await outcome(renameTaxClass({ path: { tax_class_id: renaming.id }, headers: ifMatch(renaming.version), body }))
      : await outcome(createTaxClass({ body }));
    this.busy.set(false);
    if (!result.ok) {
      this.classProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.closeClass();
    await this.load();
  }

  protected async removeClass(c: TaxClass): Promise<void> {
    if (!confirm(this.i18n.t('pricing.taxes.confirm-delete-class', { name: c.name }))) return;
    const result = await outcome(deleteTaxClass({ path: { tax_class_id: c.id }, headers: ifMatch(c.version) }));
    if (!result.ok) {
      this.classProblem.set(result.problem);
      return;
    }
    this.classProblem.set(null);
    this.notice.set(this.i18n.t('pricing.deleted', { name: c.name }));
    await this.load();
  }

  // --- zones ---

  protected editZone(z: TaxZone): void {
    this.editingZone.set(z);
    this.zone.set(zoneForm(z, this.standardId()));
    this.zoneProblem.set(null);
    setTimeout(() => document.getElementById('tax-zone-name')?.focus());
  }

  protected closeZone(): void {
    this.editingZone.set(null);
    this.zone.set(emptyZone(this.standardId()));
    this.zoneProblem.set(null);
  }

  protected addRate(): void {
    this.zone.update((z) => ({ ...z, rates: [...z.rates, { classId: this.standardId(), name: '', percent: '' }] }));
  }

  protected async saveZone(): Promise<void> {
    const built = zoneBody(this.zone());
    if ('slip' in built) {
      this.zoneProblem.set(localProblem(built.slip.field, this.slipMessage(built.slip)));
      return;
    }
    this.busy.set(true);
    const editing = this.editingZone();
    const result = editing
      ? await outcome(
          replaceTaxZone({ path: { tax_zone_id: editing.id }, headers: ifMatch(editing.version), body: built.body }),
        )
      : await outcome(createTaxZone({ body: built.body }));
    this.busy.set(false);
    if (!result.ok) {
      this.zoneProblem.set(this.onFormRows(result.problem));
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.closeZone();
    await this.load();
  }

  /** The API numbers rates among those sent (blank rows left out); the form shows every row. */
  private onFormRows(problem: Problem): Problem {
    const rows = this.zone().rates;
    const sent = rows.map((r, i) => ({ r, i })).filter(({ r }) => r.name.trim() !== '' || r.percent.trim() !== '');
    const errors = problem.errors?.map((e) => ({
      ...e,
      field: e.field.replace(/^rates\[(\d+)\]/, (whole, n: string) =>
        sent[Number(n)] ? `rates[${sent[Number(n)].i}]` : whole,
      ),
    }));
    return errors ? { ...problem, errors } : problem;
  }

  protected async removeZone(z: TaxZone): Promise<void> {
    if (!confirm(this.i18n.t('pricing.taxes.confirm-delete-zone', { name: z.name }))) return;
    const result = await outcome(deleteTaxZone({ path: { tax_zone_id: z.id }, headers: ifMatch(z.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.deleted', { name: z.name }));
    await this.load();
  }

  private standardId(): string {
    return this.classes().find((c) => c.kind === 'standard')?.id ?? STANDARD;
  }

  // --- preview ---

  protected addLine(): void {
    this.preview.update((p) => ({ ...p, lines: [...p.lines, { amount: '', productId: '' }] }));
  }

  protected async findProducts(): Promise<void> {
    const term = this.productTerm().trim();
    const result = await outcome(
      listProducts({ query: term ? { name: term, limit: 50 } : { limit: 50, sort: '-modified_at' } }),
    );
    if (!result.ok) {
      this.previewProblem.set(result.problem);
      return;
    }
    const locale = this.shop.defaultLocale();
    const found = result.data.items.map((p) => ({ id: p.id, name: pick(p.name, locale, locale) || p.id }));
    // Products chosen on a line stay choosable.
    const chosen = new Set(this.preview().lines.map((l) => l.productId));
    const kept = this.products().filter((p) => chosen.has(p.id) && !found.some((f) => f.id === p.id));
    this.products.set([...kept, ...found]);
    this.productsFound.set(found.length);
  }

  protected async runPreview(): Promise<void> {
    const built = previewBody(this.preview());
    if ('slip' in built) {
      this.previewProblem.set(localProblem(built.slip.field, this.slipMessage(built.slip)));
      this.breakdown.set(null);
      return;
    }
    const result = await outcome(previewTaxes({ body: built.body }));
    if (!result.ok) {
      this.previewProblem.set(result.problem);
      this.breakdown.set(null);
      return;
    }
    this.previewProblem.set(null);
    this.breakdown.set(result.data);
  }

  async load(): Promise<void> {
    const [classes, zones] = await Promise.all([outcome(listTaxClasses()), outcome(listTaxZones())]);
    this.loading.set(false);
    if (!classes.ok || !zones.ok) {
      this.listProblem.set(!classes.ok ? classes.problem : !zones.ok ? zones.problem : null);
      return;
    }
    this.listProblem.set(null);
    this.classes.set(classes.data.items);
    this.zones.set(zones.data.items);
    if (!this.editingZone() && this.zone().rates.every((r) => r.name === '' && r.percent === '')) {
      this.zone.set({ ...this.zone(), rates: emptyZone(this.standardId()).rates });
    }
  }
}
