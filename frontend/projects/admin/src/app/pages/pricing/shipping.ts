import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  createShippingMethod,
  createShippingZone,
  deleteShippingMethod,
  deleteShippingZone,
  fieldMessage,
  listShippingZones,
  outcome,
  previewShippingOptions,
  replaceShippingMethod,
  updateShippingZone,
  type Problem,
  type ShippingMethod,
  type ShippingOptions,
  type ShippingZone,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CatalogShop, ifMatch, toDecimal, toMinor } from '../catalog/catalog-support';
import { localProblem } from '../inventory/inventory-support';
import { amount, bandRows, bandsBody, listOf, type BandRow, type RateKind } from './shipping-support';

interface ZoneForm {
  name: string;
  countries: string;
  regions: string;
  postcodes: string;
}

interface MethodForm {
  name: string;
  description: string;
  kind: RateKind;
  currency: string;
  price: string;
  bands: BandRow[];
  freeAbove: string;
  minOrder: string;
  maxOrder: string;
  maxWeight: string;
  minDays: string;
  maxDays: string;
  active: boolean;
  position: string;
}

interface PreviewForm {
  country: string;
  region: string;
  postalCode: string;
  orderValue: string;
  currency: string;
  weight: string;
}

/** Indexes 0–49 of a list field (`countries[3]`): shown under the list's own field. */
const indexed = (field: string) => Array.from({ length: 50 }, (_, i) => `${field}[${i}]`);
const ZONE_PLACED = [
  'name',
  'countries',
  'regions',
  'postcodes',
  ...['countries', 'regions', 'postcodes'].flatMap(indexed),
];
const METHOD_PLACED = [
  'name',
  'description',
  'kind',
  'currency',
  'price',
  'bands',
  'free_above',
  'min_order_value',
  'max_order_value',
  'max_weight_grams',
  'min_days',
  'max_days',
  ...indexed('bands').flatMap((band) => [`${band}.up_to`, `${band}.price`]),
];
const KINDS: readonly RateKind[] = ['flat', 'weight', 'order_value'];

function emptyZone(): ZoneForm {
  return { name: '', countries: '', regions: '', postcodes: '' };
}

function emptyMethod(currency: string): MethodForm {
  return {
    name: '',
    description: '',
    kind: 'flat',
    currency,
    price: '',
    bands: [{ upTo: '', price: '' }],
    freeAbove: '',
    minOrder: '',
    maxOrder: '',
    maxWeight: '',
    minDays: '',
    maxDays: '',
    active: true,
    position: '0',
  };
}

function methodForm(m: ShippingMethod): MethodForm {
  const money = (value: { amount: number } | null | undefined) => (value ? toDecimal(value.amount, m.currency) : '');
  const count = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));
  return {
    name: m.name,
    description: m.description ?? '',
    kind: m.kind,
    currency: m.currency,
    price: money(m.price),
    bands: bandRows(m.bands, m.kind),
    freeAbove: money(m.free_above),
    minOrder: money(m.min_order_value),
    maxOrder: money(m.max_order_value),
    maxWeight: count(m.max_weight_grams),
    minDays: count(m.min_days),
    maxDays: count(m.max_days),
    active: m.active,
    position: String(m.position),
  };
}

/** A whole number typed in a field (inputs of type number hold numbers once typed in). */
function whole(typed: unknown): number | null | 'bad' {
  const text = String(typed ?? '').trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isInteger(n) ? n : 'bad';
}

/**
 * Where the shop delivers and at what price: zones (countries, regions, postcodes), each with
 * its methods, and a preview of what a shipment would cost.
 */
@Component({
  selector: 'admin-pricing-shipping',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.shipping.title') }}</h1>
    <p>{{ i18n.t('pricing.shipping.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    @for (z of zones(); track z.id) {
      <section class="card" [attr.aria-labelledby]="'zone-' + z.id">
        <h2 [id]="'zone-' + z.id">{{ z.name }}</h2>
        <p>{{ where(z) }}</p>
        @if (canManage()) {
          <div class="row">
            <button type="button" class="button secondary" (click)="editZone(z)">
              {{ i18n.t('pricing.shipping.edit-zone', { name: z.name }) }}
            </button>
            <button type="button" class="button secondary" (click)="addMethod(z)">
              {{ i18n.t('pricing.shipping.add-method', { name: z.name }) }}
            </button>
            <button type="button" class="button secondary" (click)="removeZone(z)">
              {{ i18n.t('pricing.shipping.delete-zone', { name: z.name }) }}
            </button>
          </div>
        }
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">
              {{
                i18n.t('pricing.shipping.methods-of', { name: z.name })
              }}
            </caption>
            <thead>
              <tr>
                <th scope="col">{{ i18n.t('pricing.shipping.method') }}</th>
                <th scope="col">{{ i18n.t('pricing.shipping.price') }}</th>
                <th scope="col">{{ i18n.t('pricing.shipping.free-above') }}</th>
                <th scope="col">{{ i18n.t('pricing.shipping.delivery') }}</th>
                <th scope="col">{{ i18n.t('pricing.shipping.state') }}</th>
                @if (canManage()) {
                  <th scope="col">{{ i18n.t('pricing.actions') }}</th>
                }
              </tr>
            </thead>
            <tbody>
              @for (m of z.methods; track m.id) {
                <tr>
                  <td>{{ m.name }}</td>
                  <td>{{ priced(m) }}</td>
                  <td>{{ m.free_above ? money(m.free_above.amount, m.currency) : '—' }}</td>
                  <td>{{ days(m) }}</td>
                  <td>
                    <span class="badge" [class.off]="!m.active">{{
                      i18n.t(m.active ? 'pricing.active' : 'pricing.inactive')
                    }}</span>
                  </td>
                  @if (canManage()) {
                    <td class="row">
                      <button
                        type="button"
                        class="button secondary"
                        (click)="editMethod(z, m)"
                        [attr.aria-label]="i18n.t('pricing.edit-named', { name: m.name })"
                      >
                        {{ i18n.t('pricing.edit') }}
                      </button>
                      <button
                        type="button"
                        class="button secondary"
                        (click)="removeMethod(m)"
                        [attr.aria-label]="i18n.t('pricing.delete-named', { name: m.name })"
                      >
                        {{ i18n.t('pricing.delete') }}
                      </button>
                    </td>
                  }
                </tr>
              } @empty {
                <tr>
                  <td [attr.colspan]="canManage() ? 6 : 5">{{ i18n.t('pricing.shipping.no-methods') }}</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      </section>
    } @empty {
      <p>{{ i18n.t(loading() ? 'common.loading' : 'pricing.shipping.no-zones') }}</p>
    }

    @if (canManage() && methodZone(); as zone) {
      <section class="card" aria-labelledby="method-form-title">
        <h2 id="method-form-title">
          {{
            editingMethod()
              ? i18n.t('pricing.edit-named', { name: editingMethod()!.name })
              : i18n.t('pricing.shipping.new-method', { name: zone.name })
          }}
        </h2>
        <agora-problem-alert [problem]="methodProblem()" [placed]="methodPlaced" (reload)="load()" />
        <form (ngSubmit)="saveMethod()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="method-name">{{ i18n.t('pricing.shipping.method-name') }}</label>
              <input id="method-name" name="name" maxlength="200" [(ngModel)]="method().name" />
              <agora-field-error [problem]="methodProblem()" field="name" for="method-name" />
            </div>
            <div class="field">
              <label for="method-kind">{{ i18n.t('pricing.shipping.kind') }}</label>
              <select id="method-kind" name="kind" [(ngModel)]="method().kind">
                @for (k of kinds; track k) {
                  <option [value]="k">{{ i18n.t('pricing.shipping.kind.' + k) }}</option>
                }
              </select>
            </div>
            <div class="field">
              <label for="method-currency">{{ i18n.t('pricing.currency') }}</label>
              <select id="method-currency" name="currency" [(ngModel)]="method().currency">
                @for (c of shop.currencies(); track c) {
                  <option [value]="c">{{ c }}</option>
                }
              </select>
              <agora-field-error [problem]="methodProblem()" field="currency" for="method-currency" />
            </div>
          </div>
          <div class="field">
            <label for="method-description">{{ i18n.t('pricing.shipping.description') }}</label>
            <input id="method-description" name="description" maxlength="2000" [(ngModel)]="method().description" />
          </div>
          @if (method().kind === 'flat') {
            <div class="field">
              <label for="method-price">{{ i18n.t('pricing.shipping.price') }}</label>
              <input id="method-price" name="price" inputmode="decimal" [(ngModel)]="method().price" />
              <agora-field-error [problem]="methodProblem()" field="price" for="method-price" />
            </div>
          } @else {
            <fieldset>
              <legend>{{ i18n.t('pricing.shipping.bands.' + method().kind) }}</legend>
              <p class="hint">{{ i18n.t('pricing.shipping.bands-hint') }}</p>
              @for (band of method().bands; track $index; let i = $index) {
                <div class="grid-3">
                  <div class="field">
                    <label [for]="'band-up-to-' + i">{{
                      i18n.t('pricing.shipping.up-to.' + method().kind, { n: i + 1 })
                    }}</label>
                    <input [id]="'band-up-to-' + i" [name]="'up_to_' + i" inputmode="decimal" [(ngModel)]="band.upTo" />
                    <agora-field-error
                      [problem]="methodProblem()"
                      [field]="'bands[' + i + '].up_to'"
                      [for]="'band-up-to-' + i"
                    />
                  </div>
                  <div class="field">
                    <label [for]="'band-price-' + i">{{ i18n.t('pricing.shipping.band-price', { n: i + 1 }) }}</label>
                    <input
                      [id]="'band-price-' + i"
                      [name]="'price_' + i"
                      inputmode="decimal"
                      [(ngModel)]="band.price"
                    />
                    <agora-field-error
                      [problem]="methodProblem()"
                      [field]="'bands[' + i + '].price'"
                      [for]="'band-price-' + i"
                    />
                  </div>
                </div>
              }
              <button type="button" class="button secondary" (click)="addBand()">
                {{ i18n.t('pricing.shipping.add-band') }}
              </button>
              <agora-field-error [problem]="methodProblem()" field="bands" for="band-up-to-0" />
            </fieldset>
          }
          <div class="grid-3">
            <div class="field">
              <label for="method-free-above">{{ i18n.t('pricing.shipping.free-above') }}</label>
              <input id="method-free-above" name="free_above" inputmode="decimal" [(ngModel)]="method().freeAbove" />
              <agora-field-error [problem]="methodProblem()" field="free_above" for="method-free-above" />
            </div>
            <div class="field">
              <label for="method-min-order">{{ i18n.t('pricing.shipping.min-order') }}</label>
              <input id="method-min-order" name="min_order" inputmode="decimal" [(ngModel)]="method().minOrder" />
              <agora-field-error [problem]="methodProblem()" field="min_order_value" for="method-min-order" />
            </div>
            <div class="field">
              <label for="method-max-order">{{ i18n.t('pricing.shipping.max-order') }}</label>
              <input id="method-max-order" name="max_order" inputmode="decimal" [(ngModel)]="method().maxOrder" />
              <agora-field-error [problem]="methodProblem()" field="max_order_value" for="method-max-order" />
            </div>
            <div class="field">
              <label for="method-max-weight">{{ i18n.t('pricing.shipping.max-weight') }}</label>
              <input id="method-max-weight" name="max_weight" type="number" min="0" [(ngModel)]="method().maxWeight" />
              <agora-field-error [problem]="methodProblem()" field="max_weight_grams" for="method-max-weight" />
            </div>
            <div class="field">
              <label for="method-min-days">{{ i18n.t('pricing.shipping.min-days') }}</label>
              <input id="method-min-days" name="min_days" type="number" min="0" [(ngModel)]="method().minDays" />
              <agora-field-error [problem]="methodProblem()" field="min_days" for="method-min-days" />
            </div>
            <div class="field">
              <label for="method-max-days">{{ i18n.t('pricing.shipping.max-days') }}</label>
              <input id="method-max-days" name="max_days" type="number" min="0" [(ngModel)]="method().maxDays" />
              <agora-field-error [problem]="methodProblem()" field="max_days" for="method-max-days" />
            </div>
          </div>
          <label class="inline">
            <input type="checkbox" name="active" [(ngModel)]="method().active" />
            {{ i18n.t('pricing.shipping.offered') }}
          </label>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editingMethod() ? 'pricing.save' : 'pricing.shipping.create-method') }}
            </button>
            <button type="button" class="button secondary" (click)="closeMethod()">
              {{ i18n.t('common.cancel') }}
            </button>
          </div>
        </form>
      </section>
    }

    @if (canManage()) {
      <section class="card" aria-labelledby="zone-form-title">
        <h2 id="zone-form-title">
          {{
            editingZone()
              ? i18n.t('pricing.shipping.edit-zone', { name: editingZone()!.name })
              : i18n.t('pricing.shipping.new-zone')
          }}
        </h2>
        <agora-problem-alert [problem]="zoneProblem()" [placed]="zonePlaced" (reload)="load()" />
        <form (ngSubmit)="saveZone()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="zone-name">{{ i18n.t('pricing.shipping.zone-name') }}</label>
              <input id="zone-name" name="name" maxlength="200" [(ngModel)]="zone().name" />
              <agora-field-error [problem]="zoneProblem()" field="name" for="zone-name" />
            </div>
            <div class="field">
              <label for="zone-countries">{{ i18n.t('pricing.shipping.countries') }}</label>
              <input
                id="zone-countries"
                name="countries"
                [(ngModel)]="zone().countries"
                aria-describedby="zone-countries-hint"
              />
              <p class="hint" id="zone-countries-hint">{{ i18n.t('pricing.shipping.countries-hint') }}</p>
              @if (listError('countries'); as message) {
                <p class="field-error">{{ message }}</p>
              }
            </div>
            <div class="field">
              <label for="zone-regions">{{ i18n.t('pricing.shipping.regions') }}</label>
              <input
                id="zone-regions"
                name="regions"
                [(ngModel)]="zone().regions"
                aria-describedby="zone-regions-hint"
              />
              <p class="hint" id="zone-regions-hint">{{ i18n.t('pricing.shipping.regions-hint') }}</p>
              @if (listError('regions'); as message) {
                <p class="field-error">{{ message }}</p>
              }
            </div>
          </div>
          <div class="field">
            <label for="zone-postcodes">{{ i18n.t('pricing.shipping.postcodes') }}</label>
            <input
              id="zone-postcodes"
              name="postcodes"
              [(ngModel)]="zone().postcodes"
              aria-describedby="zone-postcodes-hint"
            />
            <p class="hint" id="zone-postcodes-hint">{{ i18n.t('pricing.shipping.postcodes-hint') }}</p>
            @if (listError('postcodes'); as message) {
              <p class="field-error">{{ message }}</p>
            }
          </div>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editingZone() ? 'pricing.save' : 'pricing.shipping.create-zone') }}
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

    <section class="card" aria-labelledby="preview-title">
      <h2 id="preview-title">{{ i18n.t('pricing.shipping.preview') }}</h2>
      <p>{{ i18n.t('pricing.shipping.preview-intro') }}</p>
      <agora-problem-alert [problem]="previewProblem()" [placed]="previewPlaced" />
      <form (ngSubmit)="runPreview()" novalidate>
        <div class="grid-3">
          <div class="field">
            <label for="preview-country">{{ i18n.t('pricing.shipping.country') }}</label>
            <input id="preview-country" name="country" maxlength="2" [(ngModel)]="preview().country" />
            <agora-field-error [problem]="previewProblem()" field="destination.country" for="preview-country" />
          </div>
          <div class="field">
            <label for="preview-region">{{ i18n.t('pricing.shipping.region') }}</label>
            <input id="preview-region" name="region" [(ngModel)]="preview().region" />
          </div>
          <div class="field">
            <label for="preview-postcode">{{ i18n.t('pricing.shipping.postcode') }}</label>
            <input id="preview-postcode" name="postal_code" [(ngModel)]="preview().postalCode" />
          </div>
          <div class="field">
            <label for="preview-value">{{ i18n.t('pricing.shipping.order-value') }}</label>
            <input id="preview-value" name="order_value" inputmode="decimal" [(ngModel)]="preview().orderValue" />
            <agora-field-error [problem]="previewProblem()" field="order_value" for="preview-value" />
          </div>
          <div class="field">
            <label for="preview-currency">{{ i18n.t('pricing.currency') }}</label>
            <select id="preview-currency" name="currency" [(ngModel)]="preview().currency">
              @for (c of shop.currencies(); track c) {
                <option [value]="c">{{ c }}</option>
              }
            </select>
          </div>
          <div class="field">
            <label for="preview-weight">{{ i18n.t('pricing.shipping.weight') }}</label>
            <input id="preview-weight" name="weight" type="number" min="0" [(ngModel)]="preview().weight" />
            <agora-field-error [problem]="previewProblem()" field="weight_grams" for="preview-weight" />
          </div>
        </div>
        <button class="button" type="submit">{{ i18n.t('pricing.shipping.run-preview') }}</button>
      </form>
      @if (options(); as result) {
        <div aria-live="polite">
          @if (result.options.length) {
            <ul class="options">
              @for (o of result.options; track o.method_id) {
                <li>
                  {{ o.name }}: {{ money(o.price.amount, o.price.currency) }}
                  @if (o.free) {
                    ({{ i18n.t('pricing.shipping.free') }})
                  }
                </li>
              }
            </ul>
          } @else {
            <p>{{ i18n.t('pricing.shipping.not-delivered') }}</p>
          }
        </div>
      }
    </section>`,
})
export class ShippingPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('pricing.manage'));
  protected readonly zones = signal<ShippingZone[]>([]);
  protected readonly loading = signal(true);
  protected readonly busy = signal(false);
  protected readonly notice = signal('');
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly zoneProblem = signal<Problem | null>(null);
  protected readonly methodProblem = signal<Problem | null>(null);
  protected readonly previewProblem = signal<Problem | null>(null);
  protected readonly editingZone = signal<ShippingZone | null>(null);
  protected readonly zone = signal<ZoneForm>(emptyZone());
  protected readonly methodZone = signal<ShippingZone | null>(null);
  protected readonly editingMethod = signal<ShippingMethod | null>(null);
  protected readonly method = signal<MethodForm>(emptyMethod(''));
  protected readonly preview = signal<PreviewForm>({
    country: '',
    region: '',
    postalCode: '',
    orderValue: '',
    currency: '',
    weight: '',
  });
  protected readonly options = signal<ShippingOptions | null>(null);
  protected readonly kinds = KINDS;
  protected readonly zonePlaced = ZONE_PLACED;
  protected readonly methodPlaced = METHOD_PLACED;
  protected readonly previewPlaced = ['destination.country', 'order_value', 'weight_grams'];

  async ngOnInit(): Promise<void> {
    await Promise.all([this.load(), this.shop.ensureLoaded()]);
    this.preview.update((p) => ({ ...p, currency: this.shop.defaultCurrency() }));
  }

  protected where(z: ShippingZone): string {
    const parts = [z.countries.join(', ')];
    if (z.regions.length) parts.push(this.i18n.t('pricing.shipping.regions-list', { list: z.regions.join(', ') }));
    if (z.postcodes.length) {
      parts.push(this.i18n.t('pricing.shipping.postcodes-list', { list: z.postcodes.join(', ') }));
    }
    return parts.join(' · ');
  }

  protected money(minor: number, currency: string): string {
    return amount(minor, currency);
  }

  protected priced(m: ShippingMethod): string {
    if (m.kind === 'flat' && m.price) return amount(m.price.amount, m.currency);
    return m.bands
      .map((b) => {
        const bound =
          b.up_to === null || b.up_to === undefined
            ? this.i18n.t('pricing.shipping.above')
            : m.kind === 'weight'
              ? `≤ ${b.up_to} g`
              : `≤ ${amount(b.up_to, m.currency)}`;
        return `${bound}: ${amount(b.price.amount, m.currency)}`;
      })
      .join('; ');
  }

  protected days(m: ShippingMethod): string {
    if (m.min_days === null && m.max_days === null) return '—';
    if (m.min_days === m.max_days || m.max_days === null) {
      return this.i18n.t('pricing.shipping.days', { n: m.min_days ?? m.max_days ?? 0 });
    }
    return this.i18n.t('pricing.shipping.days-range', { min: m.min_days ?? 0, max: m.max_days ?? 0 });
  }

  /** A list field's own message, or the first about one of its entries. */
  protected listError(field: string): string | null {
    const p = this.zoneProblem();
    return fieldMessage(p, field) ?? p?.errors?.find((e) => e.field.startsWith(`${field}[`))?.message ?? null;
  }

  protected editZone(z: ShippingZone): void {
    this.editingZone.set(z);
    this.zone.set({
      name: z.name,
      countries: z.countries.join(', '),
      regions: z.regions.join(', '),
      postcodes: z.postcodes.join(', '),
    });
    this.zoneProblem.set(null);
    setTimeout(() => document.getElementById('zone-name')?.focus());
  }

  protected closeZone(): void {
    this.editingZone.set(null);
    this.zone.set(emptyZone());
    this.zoneProblem.set(null);
  }

  protected async saveZone(): Promise<void> {
    const f = this.zone();
    const body = {
      name: f.name.trim(),
      countries: listOf(f.countries),
      regions: listOf(f.regions),
      postcodes: listOf(f.postcodes, false),
    };
    this.busy.set(true);
    const editing = this.editingZone();
    const result = editing
      ? await outcome(updateShippingZone({ path: { zone_id: editing.id }, headers: ifMatch(editing.version), body }))
      : await outcome(createShippingZone({ body }));
    this.busy.set(false);
    if (!result.ok) {
      this.zoneProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.closeZone();
    await this.load();
  }

  protected async removeZone(z: ShippingZone): Promise<void> {
    if (!confirm(this.i18n.t('pricing.shipping.confirm-delete-zone', { name: z.name }))) return;
    const result = await outcome(deleteShippingZone({ path: { zone_id: z.id }, headers: ifMatch(z.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.deleted', { name: z.name }));
    await this.load();
  }

  protected addMethod(z: ShippingZone): void {
    this.methodZone.set(z);
    this.editingMethod.set(null);
    this.method.set(emptyMethod(this.shop.defaultCurrency()));
    this.methodProblem.set(null);
    setTimeout(() => document.getElementById('method-name')?.focus());
  }

  protected editMethod(z: ShippingZone, m: ShippingMethod): void {
    this.methodZone.set(z);
    this.editingMethod.set(m);
    this.method.set(methodForm(m));
    this.methodProblem.set(null);
    setTimeout(() => document.getElementById('method-name')?.focus());
  }

  protected closeMethod(): void {
    this.methodZone.set(null);
    this.editingMethod.set(null);
    this.methodProblem.set(null);
  }

  protected addBand(): void {
    this.method.update((m) => ({ ...m, bands: [...m.bands, { upTo: '', price: '' }] }));
  }

  protected async saveMethod(): Promise<void> {
    const f = this.method();
    const currency = f.currency;
    const money = (typed: string, field: string): { amount: number; currency: string } | null | 'bad' => {
      const minor = toMinor(typed, currency);
      if (minor === null) return null;
      if (Number.isNaN(minor)) {
        this.methodProblem.set(localProblem(field, this.i18n.t('pricing.amount-expected')));
        return 'bad';
      }
      return { amount: minor, currency };
    };
    const counts = { max_weight_grams: whole(f.maxWeight), min_days: whole(f.minDays), max_days: whole(f.maxDays) };
    for (const [field, value] of Object.entries(counts)) {
      if (value === 'bad') {
        this.methodProblem.set(localProblem(field, this.i18n.t('pricing.whole-number')));
        return;
      }
    }
    const price = f.kind === 'flat' ? money(f.price, 'price') : null;
    const freeAbove = money(f.freeAbove, 'free_above');
    const minOrder = money(f.minOrder, 'min_order_value');
    const maxOrder = money(f.maxOrder, 'max_order_value');
    if ([price, freeAbove, minOrder, maxOrder].includes('bad')) return;
    let bands: ReturnType<typeof bandsBody> = { bands: [] };
    if (f.kind !== 'flat') {
      bands = bandsBody(f.bands, f.kind, currency);
      if ('error' in bands) {
        const { index, field } = bands.error;
        this.methodProblem.set(localProblem(`bands[${index}].${field}`, this.i18n.t('pricing.amount-expected')));
        return;
      }
    }
    const body = {
      name: f.name.trim(),
      description: f.description.trim() || null,
      kind: f.kind,
      currency,
      price: price as { amount: number; currency: string } | null,
      bands: f.kind === 'flat' ? null : bands.bands,
      free_above: freeAbove as { amount: number; currency: string } | null,
      min_order_value: minOrder as { amount: number; currency: string } | null,
      max_order_value: maxOrder as { amount: number; currency: string } | null,
      max_weight_grams: counts.max_weight_grams as number | null,
      min_days: counts.min_days as number | null,
      max_days: counts.max_days as number | null,
      active: f.active,
      position: (whole(f.position) as number | null) ?? 0,
    };
    const zone = this.methodZone();
    if (!zone) return;
    this.busy.set(true);
    const editing = this.editingMethod();
    const result = editing
      ? await outcome(
          replaceShippingMethod({ path: { method_id: editing.id }, headers: ifMatch(editing.version), body }),
        )
      : await outcome(createShippingMethod({ path: { zone_id: zone.id }, body }));
    this.busy.set(false);
    if (!result.ok) {
      this.methodProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.closeMethod();
    await this.load();
  }

  protected async removeMethod(m: ShippingMethod): Promise<void> {
    if (!confirm(this.i18n.t('pricing.shipping.confirm-delete-method', { name: m.name }))) return;
    const result = await outcome(deleteShippingMethod({ path: { method_id: m.id }, headers: ifMatch(m.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.deleted', { name: m.name }));
    await this.load();
  }

  protected async runPreview(): Promise<void> {
    const f = this.preview();
    const value = toMinor(f.orderValue, f.currency) ?? 0;
    if (Number.isNaN(value)) {
      this.previewProblem.set(localProblem('order_value', this.i18n.t('pricing.amount-expected')));
      return;
    }
    const weight = whole(f.weight);
    if (weight === 'bad') {
      this.previewProblem.set(localProblem('weight_grams', this.i18n.t('pricing.whole-number')));
      return;
    }
    const body = {
      destination: {
        country: f.country.trim().toUpperCase(),
        region: f.region.trim() || null,
        postal_code: f.postalCode.trim() || null,
      },
      order_value: { amount: value, currency: f.currency },
      weight_grams: weight,
    };
    const result = await outcome(previewShippingOptions({ body }));
    if (!result.ok) {
      this.previewProblem.set(result.problem);
      this.options.set(null);
      return;
    }
    this.previewProblem.set(null);
    this.options.set(result.data);
  }

  protected async load(): Promise<void> {
    const result = await outcome(listShippingZones());
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.zones.set(result.data.items);
  }
}
