import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  createCurrencyRate,
  createPriceList,
  deleteCurrencyRate,
  deletePriceList,
  deletePriceListEntry,
  explainPrice,
  listCurrencyRates,
  listCustomerGroups,
  listPriceListEntries,
  listPriceLists,
  listProducts,
  outcome,
  updateCurrencyRate,
  updatePriceList,
  upsertPriceListEntries,
  type CurrencyRate,
  type CustomerGroup,
  type PriceExplanation,
  type PriceList,
  type Problem,
} from 'shared';
import { PRICING_PRICE_LISTS } from '../../texts/pricing-price-lists';
import { StaffSession } from '../../staff-session';
import { CatalogShop, fromLocalInput, ifMatch, toLocalInput } from '../catalog/catalog-support';
import { localProblem } from '../inventory/inventory-support';
import {
  dateRange,
  emptyEntry,
  entryBody,
  entryForm,
  entryProblem,
  groupNames,
  isUuid,
  rateText,
  variantBySku,
  wholeNumber,
  type Entry,
  type EntryForm,
} from './price-lists-support';
import { amount } from './shipping-support';

type Rounding = CurrencyRate['rounding'];
const ROUNDINGS: readonly Rounding[] = ['none', 'whole', 'ending_99', 'ending_95'];

interface ListForm {
  name: string;
  currency: string;
  groups: string[];
  startsAt: string;
  endsAt: string;
  priority: string;
  status: PriceList['status'];
}

interface ExplainForm {
  variant: string;
  currency: string;
  quantity: string;
  group: string;
  at: string;
}

interface RateForm {
  from: string;
  to: string;
  rate: string;
  rounding: Rounding;
}

const LIST_PLACED = ['name', 'currency', 'customer_groups', 'starts_at', 'ends_at', 'priority', 'status'];
const ENTRY_PLACED = [
  'variant',
  'price',
  'tiers',
  ...Array.from({ length: 20 }, (_, i) => [`tiers[${i}].min_quantity`, `tiers[${i}].price`]).flat(),
];
const EXPLAIN_PLACED = ['variant_id', 'currency', 'quantity', 'customer_group', 'at'];
const RATE_PLACED = ['from_currency', 'to_currency', 'rate', 'rounding'];

function emptyList(currency: string): ListForm {
  return { name: '', currency, groups: [], startsAt: '', endsAt: '', priority: '0', status: 'draft' };
}

/**
 * Price lists (a currency's prices for some variants, for some customer groups, for a while),
 * their entries, why a variant costs what it costs, and the conversion rates that price
 * variants in currencies they have no price in.
 */
@Component({
  selector: 'admin-price-lists',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.price-lists.title') }}</h1>
    <p>{{ i18n.t('pricing.price-lists.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('pricing.price-lists.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('pricing.price-lists.name') }}</th>
            <th scope="col">{{ i18n.t('pricing.currency') }}</th>
            <th scope="col">{{ i18n.t('pricing.price-lists.groups') }}</th>
            <th scope="col">{{ i18n.t('pricing.price-lists.when') }}</th>
            <th scope="col">{{ i18n.t('pricing.price-lists.status') }}</th>
            <th scope="col">{{ i18n.t('pricing.price-lists.priority') }}</th>
            <th scope="col">{{ i18n.t('pricing.price-lists.entries') }}</th>
            <th scope="col">{{ i18n.t('pricing.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (l of lists(); track l.id) {
            <tr>
              <td>{{ l.name }}</td>
              <td>{{ l.currency }}</td>
              <td>{{ groupsOf(l) }}</td>
              <td>{{ when(l.starts_at, l.ends_at) }}</td>
              <td>
                <span class="badge" [class.off]="l.status !== 'active'">{{
                  i18n.t('pricing.price-lists.status.' + l.status)
                }}</span>
              </td>
              <td>{{ l.priority }}</td>
              <td>{{ l.entry_count }}</td>
              <td class="row">
                <button
                  type="button"
                  class="button secondary"
                  (click)="openEntries(l)"
                  [attr.aria-label]="i18n.t('pricing.price-lists.show-entries', { name: l.name })"
                >
                  {{ i18n.t('pricing.price-lists.entries') }}
                </button>
                @if (canManage()) {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="editList(l)"
                    [attr.aria-label]="i18n.t('pricing.edit-named', { name: l.name })"
                  >
                    {{ i18n.t('pricing.edit') }}
                  </button>
                  <button
                    type="button"
                    class="button secondary"
                    (click)="removeList(l)"
                    [attr.aria-label]="i18n.t('pricing.delete-named', { name: l.name })"
                  >
                    {{ i18n.t('pricing.delete') }}
                  </button>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="8">{{ i18n.t(loading() ? 'common.loading' : 'pricing.price-lists.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (listsNext()) {
      <button type="button" class="button secondary" (click)="loadLists(true)">
        {{ i18n.t('pricing.price-lists.more') }}
      </button>
    }

    @if (canManage()) {
      <section class="card" aria-labelledby="list-form-title">
        <h2 id="list-form-title">
          {{
            editingList()
              ? i18n.t('pricing.edit-named', { name: editingList()!.name })
              : i18n.t('pricing.price-lists.new')
          }}
        </h2>
        <agora-problem-alert [problem]="listFormProblem()" [placed]="listPlaced" (reload)="loadLists()" />
        <form (ngSubmit)="saveList()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="list-name">{{ i18n.t('pricing.price-lists.name') }}</label>
              <input id="list-name" name="name" maxlength="200" [(ngModel)]="listForm().name" />
              <agora-field-error [problem]="listFormProblem()" field="name" for="list-name" />
            </div>
            <div class="field">
              <label for="list-currency">{{ i18n.t('pricing.currency') }}</label>
              <select
                id="list-currency"
                name="currency"
                [(ngModel)]="listForm().currency"
                [disabled]="!!editingList()"
                aria-describedby="list-currency-hint"
              >
                @for (c of shop.currencies(); track c) {
                  <option [value]="c">{{ c }}</option>
                }
              </select>
              <p class="hint" id="list-currency-hint">{{ i18n.t('pricing.price-lists.currency-hint') }}</p>
              <agora-field-error [problem]="listFormProblem()" field="currency" for="list-currency" />
            </div>
            <div class="field">
              <label for="list-status">{{ i18n.t('pricing.price-lists.status') }}</label>
              <select id="list-status" name="status" [(ngModel)]="listForm().status">
                <option value="draft">{{ i18n.t('pricing.price-lists.status.draft') }}</option>
                <option value="active">{{ i18n.t('pricing.price-lists.status.active') }}</option>
              </select>
            </div>
            <div class="field">
              <label for="list-starts">{{ i18n.t('pricing.price-lists.starts') }}</label>
              <input id="list-starts" name="starts_at" type="datetime-local" [(ngModel)]="listForm().startsAt" />
              <agora-field-error [problem]="listFormProblem()" field="starts_at" for="list-starts" />
            </div>
            <div class="field">
              <label for="list-ends">{{ i18n.t('pricing.price-lists.ends') }}</label>
              <input id="list-ends" name="ends_at" type="datetime-local" [(ngModel)]="listForm().endsAt" />
              <agora-field-error [problem]="listFormProblem()" field="ends_at" for="list-ends" />
            </div>
            <div class="field">
              <label for="list-priority">{{ i18n.t('pricing.price-lists.priority') }}</label>
              <input
                id="list-priority"
                name="priority"
                type="number"
                [(ngModel)]="listForm().priority"
                aria-describedby="list-priority-hint"
              />
              <p class="hint" id="list-priority-hint">{{ i18n.t('pricing.price-lists.priority-hint') }}</p>
              <agora-field-error [problem]="listFormProblem()" field="priority" for="list-priority" />
            </div>
          </div>
          <fieldset class="checks">
            <legend>{{ i18n.t('pricing.price-lists.groups') }}</legend>
            <p class="hint">{{ i18n.t('pricing.price-lists.groups-hint') }}</p>
            @for (g of groups(); track g.id) {
              <label>
                <input
                  type="checkbox"
                  [checked]="listForm().groups.includes(g.id)"
                  (change)="toggleGroup(g.id, $any($event.target).checked)"
                />
                {{ g.name }} ({{ g.key }})
              </label>
            } @empty {
              <p>{{ i18n.t('pricing.price-lists.no-groups') }}</p>
            }
            @if (groupError(); as message) {
              <p class="field-error">{{ message }}</p>
            }
          </fieldset>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editingList() ? 'pricing.save' : 'pricing.price-lists.create') }}
            </button>
            @if (editingList()) {
              <button type="button" class="button secondary" (click)="closeList()">
                {{ i18n.t('common.cancel') }}
              </button>
            }
          </div>
        </form>
      </section>
    }

    @if (openList(); as list) {
      <section class="card" aria-labelledby="entries-title">
        <h2 id="entries-title">{{ i18n.t('pricing.price-lists.entries-of', { name: list.name }) }}</h2>
        <agora-problem-alert [problem]="entriesProblem()" (reload)="reloadOpen()" />
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">
              {{
                i18n.t('pricing.price-lists.entries-of', { name: list.name })
              }}
            </caption>
            <thead>
              <tr>
                <th scope="col">{{ i18n.t('pricing.price-lists.variant') }}</th>
                <th scope="col">{{ i18n.t('pricing.price-lists.price') }}</th>
                <th scope="col">{{ i18n.t('pricing.price-lists.sale') }}</th>
                <th scope="col">{{ i18n.t('pricing.price-lists.tiers') }}</th>
                @if (canManage()) {
                  <th scope="col">{{ i18n.t('pricing.actions') }}</th>
                }
              </tr>
            </thead>
            <tbody>
              @for (e of entries(); track e.variant_id) {
                <tr>
                  <td>{{ e.sku ?? e.variant_id }}</td>
                  <td>{{ money(e.price.amount, e.price.currency) }}</td>
                  <td>{{ i18n.t(e.sale ? 'pricing.price-lists.yes' : 'pricing.price-lists.no') }}</td>
                  <td>{{ tiersOf(e) }}</td>
                  @if (canManage()) {
                    <td class="row">
                      <button
                        type="button"
                        class="button secondary"
                        (click)="editEntry(e)"
                        [attr.aria-label]="i18n.t('pricing.price-lists.edit-entry', { sku: e.sku ?? e.variant_id })"
                      >
                        {{ i18n.t('pricing.edit') }}
                      </button>
                      <button
                        type="button"
                        class="button secondary"
                        (click)="removeEntry(list, e)"
                        [attr.aria-label]="i18n.t('pricing.price-lists.remove-entry', { sku: e.sku ?? e.variant_id })"
                      >
                        {{ i18n.t('pricing.price-lists.remove') }}
                      </button>
                    </td>
                  }
                </tr>
              } @empty {
                <tr>
                  <td [attr.colspan]="canManage() ? 5 : 4">{{ i18n.t('pricing.price-lists.no-entries') }}</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
        @if (entriesNext()) {
          <button type="button" class="button secondary" (click)="loadEntries(list, true)">
            {{ i18n.t('pricing.price-lists.more') }}
          </button>
        }
        @if (canManage()) {
          <h3 id="entry-form-title">{{ i18n.t('pricing.price-lists.entry-form', { currency: list.currency }) }}</h3>
          <agora-problem-alert [problem]="entryProblem()" [placed]="entryPlaced" (reload)="reloadOpen()" />
          <form (ngSubmit)="saveEntry(list)" novalidate aria-labelledby="entry-form-title">
            <div class="grid-3">
              <div class="field">
                <label for="entry-variant">{{ i18n.t('pricing.price-lists.variant-ref') }}</label>
                <input
                  id="entry-variant"
                  name="variant"
                  autocomplete="off"
                  [(ngModel)]="entry().variant"
                  aria-describedby="entry-variant-hint"
                />
                <p class="hint" id="entry-variant-hint">{{ i18n.t('pricing.price-lists.variant-hint') }}</p>
                <agora-field-error [problem]="entryProblem()" field="variant" for="entry-variant" />
              </div>
              <div class="field">
                <label for="entry-price">{{ i18n.t('pricing.price-lists.price') }}</label>
                <input id="entry-price" name="price" inputmode="decimal" [(ngModel)]="entry().price" />
                <agora-field-error [problem]="entryProblem()" field="price" for="entry-price" />
              </div>
            </div>
            <label class="inline">
              <input type="checkbox" name="sale" [(ngModel)]="entry().sale" />
              {{ i18n.t('pricing.price-lists.sale-label') }}
            </label>
            <fieldset>
              <legend>{{ i18n.t('pricing.price-lists.tiers') }}</legend>
              <p class="hint">{{ i18n.t('pricing.price-lists.tiers-hint') }}</p>
              @for (tier of entry().tiers; track $index; let i = $index) {
                <div class="grid-3">
                  <div class="field">
                    <label [for]="'tier-min-' + i">{{ i18n.t('pricing.price-lists.tier-min', { n: i + 1 }) }}</label>
                    <input
                      [id]="'tier-min-' + i"
                      [name]="'tier_min_' + i"
                      type="number"
                      min="2"
                      [(ngModel)]="tier.minQuantity"
                    />
                    <agora-field-error
                      [problem]="entryProblem()"
                      [field]="'tiers[' + i + '].min_quantity'"
                      [for]="'tier-min-' + i"
                    />
                  </div>
                  <div class="field">
                    <label [for]="'tier-price-' + i">{{
                      i18n.t('pricing.price-lists.tier-price', { n: i + 1 })
                    }}</label>
                    <input
                      [id]="'tier-price-' + i"
                      [name]="'tier_price_' + i"
                      inputmode="decimal"
                      [(ngModel)]="tier.price"
                    />
                    <agora-field-error
                      [problem]="entryProblem()"
                      [field]="'tiers[' + i + '].price'"
                      [for]="'tier-price-' + i"
                    />
                  </div>
                </div>
              }
              <button type="button" class="button secondary" (click)="addTier()">
                {{ i18n.t('pricing.price-lists.add-tier') }}
              </button>
              <agora-field-error [problem]="entryProblem()" field="tiers" for="tier-min-0" />
            </fieldset>
            <div class="row form-actions">
              <button class="button" type="submit" [disabled]="busy()">
                {{ i18n.t('pricing.price-lists.save-entry') }}
              </button>
              <button type="button" class="button secondary" (click)="closeEntries()">
                {{ i18n.t('pricing.price-lists.close-entries') }}
              </button>
            </div>
          </form>
        } @else {
          <button type="button" class="button secondary" (click)="closeEntries()">
            {{ i18n.t('pricing.price-lists.close-entries') }}
          </button>
        }
      </section>
    }

    <section class="card" aria-labelledby="explain-title">
      <h2 id="explain-title">{{ i18n.t('pricing.price-lists.explain') }}</h2>
      <p>{{ i18n.t('pricing.price-lists.explain-intro') }}</p>
      <agora-problem-alert [problem]="explainProblem()" [placed]="explainPlaced" />
      <form (ngSubmit)="runExplain()" novalidate>
        <div class="grid-3">
          <div class="field">
            <label for="explain-variant">{{ i18n.t('pricing.price-lists.variant-ref') }}</label>
            <input id="explain-variant" name="variant" autocomplete="off" [(ngModel)]="explain().variant" />
            <agora-field-error [problem]="explainProblem()" field="variant_id" for="explain-variant" />
          </div>
          <div class="field">
            <label for="explain-currency">{{ i18n.t('pricing.currency') }}</label>
            <select id="explain-currency" name="currency" [(ngModel)]="explain().currency">
              @for (c of shop.currencies(); track c) {
                <option [value]="c">{{ c }}</option>
              }
            </select>
            <agora-field-error [problem]="explainProblem()" field="currency" for="explain-currency" />
          </div>
          <div class="field">
            <label for="explain-quantity">{{ i18n.t('pricing.price-lists.quantity') }}</label>
            <input id="explain-quantity" name="quantity" type="number" min="1" [(ngModel)]="explain().quantity" />
            <agora-field-error [problem]="explainProblem()" field="quantity" for="explain-quantity" />
          </div>
          <div class="field">
            <label for="explain-group">{{ i18n.t('pricing.price-lists.group') }}</label>
            <select id="explain-group" name="group" [(ngModel)]="explain().group">
              <option value="">{{ i18n.t('pricing.price-lists.no-group') }}</option>
              @for (g of groups(); track g.id) {
                <option [value]="g.key">{{ g.name }}</option>
              }
            </select>
            <agora-field-error [problem]="explainProblem()" field="customer_group" for="explain-group" />
          </div>
          <div class="field">
            <label for="explain-at">{{ i18n.t('pricing.price-lists.at') }}</label>
            <input
              id="explain-at"
              name="at"
              type="datetime-local"
              [(ngModel)]="explain().at"
              aria-describedby="explain-at-hint"
            />
            <p class="hint" id="explain-at-hint">{{ i18n.t('pricing.price-lists.at-hint') }}</p>
          </div>
        </div>
        <button class="button" type="submit" [disabled]="explaining()">
          {{ i18n.t('pricing.price-lists.run-explain') }}
        </button>
      </form>
      @if (explanation(); as x) {
        <div aria-live="polite" class="explanation">
          <p>
            <strong>{{ verdict(x) }}</strong>
          </p>
          <h3>{{ i18n.t('pricing.price-lists.base') }}</h3>
          <p>
            {{
              x.base.price ? money(x.base.price.amount, x.base.price.currency) : i18n.t('pricing.price-lists.no-price')
            }}
            — {{ x.base.reason }}
            @if (x.base.converted_from; as from) {
              ({{
                i18n.t('pricing.price-lists.converted', {
                  from: money(from.amount, from.currency),
                  rate: x.base.rate ?? '?',
                  rounding: i18n.t('pricing.price-lists.rounding.' + (x.base.rounding ?? 'none')),
                })
              }})
            }
          </p>
          <div class="table-scroll">
            <table>
              <caption>
                {{
                  i18n.t('pricing.price-lists.candidates')
                }}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{{ i18n.t('pricing.price-lists.name') }}</th>
                  <th scope="col">{{ i18n.t('pricing.price-lists.priority') }}</th>
                  <th scope="col">{{ i18n.t('pricing.price-lists.unit-price') }}</th>
                  <th scope="col">{{ i18n.t('pricing.price-lists.applies') }}</th>
                  <th scope="col">{{ i18n.t('pricing.price-lists.why') }}</th>
                </tr>
              </thead>
              <tbody>
                @for (c of x.price_lists; track c.price_list_id) {
                  <tr>
                    <td>
                      {{ c.name }}
                      @if (c.won) {
                        <span class="badge">{{ i18n.t('pricing.price-lists.winner') }}</span>
                      }
                    </td>
                    <td>{{ c.priority }}</td>
                    <td>
                      {{ money(c.unit_price.amount, c.unit_price.currency) }}
                      @if (c.tier_min_quantity) {
                        ({{ i18n.t('pricing.price-lists.tier-from', { n: c.tier_min_quantity }) }})
                      }
                      @if (c.sale) {
                        ({{ i18n.t('pricing.price-lists.on-sale') }})
                      }
                    </td>
                    <td>{{ i18n.t(c.applies ? 'pricing.price-lists.yes' : 'pricing.price-lists.no') }}</td>
                    <td>{{ c.reason }}</td>
                  </tr>
                } @empty {
                  <tr>
                    <td colspan="5">{{ i18n.t('pricing.price-lists.no-candidates') }}</td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
        </div>
      }
    </section>

    <section class="card" aria-labelledby="rates-title">
      <h2 id="rates-title">{{ i18n.t('pricing.price-lists.rates') }}</h2>
      <p>{{ i18n.t('pricing.price-lists.rates-intro') }}</p>
      <agora-problem-alert [problem]="ratesProblem()" />
      <div class="table-scroll">
        <table>
          <caption class="visually-hidden">
            {{
              i18n.t('pricing.price-lists.rates')
            }}
          </caption>
          <thead>
            <tr>
              <th scope="col">{{ i18n.t('pricing.price-lists.from-currency') }}</th>
              <th scope="col">{{ i18n.t('pricing.price-lists.to-currency') }}</th>
              <th scope="col">{{ i18n.t('pricing.price-lists.rate') }}</th>
              <th scope="col">{{ i18n.t('pricing.price-lists.rounding') }}</th>
              @if (canManage()) {
                <th scope="col">{{ i18n.t('pricing.actions') }}</th>
              }
            </tr>
          </thead>
          <tbody>
            @for (r of rates(); track r.id) {
              <tr>
                <td>{{ r.from_currency }}</td>
                <td>{{ r.to_currency }}</td>
                <td>{{ r.rate }}</td>
                <td>{{ i18n.t('pricing.price-lists.rounding.' + r.rounding) }}</td>
                @if (canManage()) {
                  <td class="row">
                    <button
                      type="button"
                      class="button secondary"
                      (click)="editRate(r)"
                      [attr.aria-label]="
                        i18n.t('pricing.price-lists.edit-rate', { from: r.from_currency, to: r.to_currency })
                      "
                    >
                      {{ i18n.t('pricing.edit') }}
                    </button>
                    <button
                      type="button"
                      class="button secondary"
                      (click)="removeRate(r)"
                      [attr.aria-label]="
                        i18n.t('pricing.price-lists.delete-rate', { from: r.from_currency, to: r.to_currency })
                      "
                    >
                      {{ i18n.t('pricing.delete') }}
                    </button>
                  </td>
                }
              </tr>
            } @empty {
              <tr>
                <td [attr.colspan]="canManage() ? 5 : 4">{{ i18n.t('pricing.price-lists.no-rates') }}</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (canManage()) {
        <h3 id="rate-form-title">
          {{
            editingRate()
              ? i18n.t('pricing.price-lists.edit-rate', {
                  from: editingRate()!.from_currency,
                  to: editingRate()!.to_currency,
                })
              : i18n.t('pricing.price-lists.new-rate')
          }}
        </h3>
        <agora-problem-alert [problem]="rateProblem()" [placed]="ratePlaced" (reload)="loadRates()" />
        <form (ngSubmit)="saveRate()" novalidate aria-labelledby="rate-form-title">
          <div class="grid-3">
            <div class="field">
              <label for="rate-from">{{ i18n.t('pricing.price-lists.from-currency') }}</label>
              <select id="rate-from" name="from" [(ngModel)]="rate().from" [disabled]="!!editingRate()">
                @for (c of shop.currencies(); track c) {
                  <option [value]="c">{{ c }}</option>
                }
              </select>
              <agora-field-error [problem]="rateProblem()" field="from_currency" for="rate-from" />
            </div>
            <div class="field">
              <label for="rate-to">{{ i18n.t('pricing.price-lists.to-currency') }}</label>
              <select id="rate-to" name="to" [(ngModel)]="rate().to" [disabled]="!!editingRate()">
                @for (c of shop.currencies(); track c) {
                  <option [value]="c">{{ c }}</option>
                }
              </select>
              <agora-field-error [problem]="rateProblem()" field="to_currency" for="rate-to" />
            </div>
            <div class="field">
              <label for="rate-value">{{ i18n.t('pricing.price-lists.rate') }}</label>
              <input
                id="rate-value"
                name="rate"
                inputmode="decimal"
                [(ngModel)]="rate().rate"
                aria-describedby="rate-value-hint"
              />
              <p class="hint" id="rate-value-hint">{{ i18n.t('pricing.price-lists.rate-hint') }}</p>
              <agora-field-error [problem]="rateProblem()" field="rate" for="rate-value" />
            </div>
            <div class="field">
              <label for="rate-rounding">{{ i18n.t('pricing.price-lists.rounding') }}</label>
              <select id="rate-rounding" name="rounding" [(ngModel)]="rate().rounding">
                @for (r of roundings; track r) {
                  <option [value]="r">{{ i18n.t('pricing.price-lists.rounding.' + r) }}</option>
                }
              </select>
            </div>
          </div>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editingRate() ? 'pricing.save' : 'pricing.price-lists.create-rate') }}
            </button>
            @if (editingRate()) {
              <button type="button" class="button secondary" (click)="closeRate()">
                {{ i18n.t('common.cancel') }}
              </button>
            }
          </div>
        </form>
      }
    </section>`,
})
export class PriceListsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('pricing.manage'));
  protected readonly lists = signal<PriceList[]>([]);
  protected readonly listsNext = signal<string | null>(null);
  protected readonly groups = signal<CustomerGroup[]>([]);
  protected readonly rates = signal<CurrencyRate[]>([]);
  protected readonly loading = signal(true);
  protected readonly busy = signal(false);
  protected readonly explaining = signal(false);
  protected readonly notice = signal('');
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly listFormProblem = signal<Problem | null>(null);
  protected readonly entriesProblem = signal<Problem | null>(null);
  protected readonly entryProblem = signal<Problem | null>(null);
  protected readonly explainProblem = signal<Problem | null>(null);
  protected readonly ratesProblem = signal<Problem | null>(null);
  protected readonly rateProblem = signal<Problem | null>(null);
  protected readonly editingList = signal<PriceList | null>(null);
  protected readonly listForm = signal<ListForm>(emptyList(''));
  protected readonly openList = signal<PriceList | null>(null);
  protected readonly entries = signal<Entry[]>([]);
  protected readonly entriesNext = signal<string | null>(null);
  protected readonly entry = signal<EntryForm>(emptyEntry());
  protected readonly explain = signal<ExplainForm>({ variant: '', currency: '', quantity: '1', group: '', at: '' });
  protected readonly explanation = signal<PriceExplanation | null>(null);
  protected readonly editingRate = signal<CurrencyRate | null>(null);
  protected readonly rate = signal<RateForm>({ from: '', to: '', rate: '', rounding: 'none' });
  protected readonly roundings = ROUNDINGS;
  protected readonly listPlaced = LIST_PLACED;
  protected readonly entryPlaced = ENTRY_PLACED;
  protected readonly explainPlaced = EXPLAIN_PLACED;
  protected readonly ratePlaced = RATE_PLACED;

  constructor() {
    this.i18n.register(PRICING_PRICE_LISTS);
  }

  async ngOnInit(): Promise<void> {
    await Promise.all([this.loadLists(), this.loadGroups(), this.loadRates(), this.shop.ensureLoaded()]);
    const currency = this.shop.defaultCurrency();
    const currencies = this.shop.currencies();
    this.listForm.update((f) => ({ ...f, currency: f.currency || currency }));
    this.explain.update((f) => ({ ...f, currency }));
    this.rate.update((f) => ({
      ...f,
      from: currency,
      to: currencies.find((c) => c !== currency) ?? currency,
    }));
  }

  protected money(minor: number, currency: string): string {
    return amount(minor, currency);
  }

  protected when(starts: string | null | undefined, ends: string | null | undefined): string {
    return dateRange(starts, ends, (k, p) => this.i18n.t(k, p), this.i18n.locale(), 'pricing.price-lists');
  }

  protected groupsOf(l: PriceList): string {
    if (!l.customer_groups.length) return this.i18n.t('pricing.price-lists.everyone');
    return groupNames(l.customer_groups, this.groups()).join(', ');
  }

  protected tiersOf(e: Entry): string {
    if (!e.tiers.length) return '—';
    return e.tiers
      .map((t) =>
        this.i18n.t('pricing.price-lists.tier', { n: t.min_quantity, price: amount(t.price.amount, t.price.currency) }),
      )
      .join('; ');
  }

  /** The message about the groups, or about one of them (`customer_groups[1]`). */
  protected groupError(): string | null {
    const p = this.listFormProblem();
    return (
      p?.errors?.find((e) => e.field === 'customer_groups' || e.field.startsWith('customer_groups['))?.message ?? null
    );
  }

  protected toggleGroup(id: string, checked: boolean): void {
    this.listForm.update((f) => ({
      ...f,
      groups: checked ? [...f.groups.filter((g) => g !== id), id] : f.groups.filter((g) => g !== id),
    }));
  }

  // ---- price lists -----------------------------------------------------------------------------

  protected editList(l: PriceList): void {
    this.editingList.set(l);
    this.listForm.set({
      name: l.name,
      currency: l.currency,
      groups: [...l.customer_groups],
      startsAt: toLocalInput(l.starts_at),
      endsAt: toLocalInput(l.ends_at),
      priority: String(l.priority),
      status: l.status,
    });
    this.listFormProblem.set(null);
    setTimeout(() => document.getElementById('list-name')?.focus());
  }

  protected closeList(): void {
    this.editingList.set(null);
    this.listForm.set(emptyList(this.shop.defaultCurrency()));
    this.listFormProblem.set(null);
  }

  protected async saveList(): Promise<void> {
    const f = this.listForm();
    const priority = wholeNumber(f.priority);
    if (priority === 'bad') {
      this.listFormProblem.set(localProblem('priority', this.i18n.t('pricing.whole-number')));
      return;
    }
    const common = {
      name: f.name.trim(),
      customer_groups: f.groups,
      starts_at: fromLocalInput(f.startsAt),
      ends_at: fromLocalInput(f.endsAt),
      priority: priority ?? 0,
      status: f.status,
    };
    this.busy.set(true);
    const editing = this.editingList();
    const result = editing
      ? await outcome(
          updatePriceList({ path: { price_list_id: editing.id }, headers: ifMatch(editing.version), body: common }),
        )
      : await outcome(createPriceList({ body: { ...common, currency: f.currency } }));
    this.busy.set(false);
    if (!result.ok) {
      this.listFormProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.closeList();
    await this.loadLists();
  }

  protected async removeList(l: PriceList): Promise<void> {
    if (!confirm(this.i18n.t('pricing.price-lists.confirm-delete', { name: l.name }))) return;
    const result = await outcome(deletePriceList({ path: { price_list_id: l.id }, headers: ifMatch(l.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.deleted', { name: l.name }));
    if (this.openList()?.id === l.id) this.closeEntries();
    await this.loadLists();
  }

  // ---- entries ---------------------------------------------------------------------------------

  protected async openEntries(l: PriceList): Promise<void> {
    this.openList.set(l);
    this.entry.set(emptyEntry());
    this.entryProblem.set(null);
    await this.loadEntries(l);
    setTimeout(() => document.getElementById('entries-title')?.scrollIntoView());
  }

  protected closeEntries(): void {
    this.openList.set(null);
    this.entries.set([]);
    this.entriesProblem.set(null);
    this.entryProblem.set(null);
  }

  /** After a change to the open list: its new version and entry count, and its entries. */
  protected async reloadOpen(): Promise<void> {
    await this.loadLists();
    const open = this.openList();
    if (!open) return;
    const fresh = this.lists().find((l) => l.id === open.id) ?? open;
    this.openList.set(fresh);
    await this.loadEntries(fresh);
  }

  protected editEntry(e: Entry): void {
    this.entry.set(entryForm(e));
    this.entryProblem.set(null);
    setTimeout(() => document.getElementById('entry-price')?.focus());
  }

  protected addTier(): void {
    this.entry.update((e) => ({ ...e, tiers: [...e.tiers, { minQuantity: '', price: '' }] }));
  }

  protected async saveEntry(list: PriceList): Promise<void> {
    const body = entryBody(this.entry(), list.currency);
    if ('error' in body) {
      const message = body.error.endsWith('min_quantity')
        ? this.i18n.t('pricing.price-lists.tier-quantity')
        : body.error === 'variant'
          ? this.i18n.t('pricing.price-lists.variant-required')
          : this.i18n.t('pricing.amount-expected');
      this.entryProblem.set(localProblem(body.error, message));
      return;
    }
    this.busy.set(true);
    const result = await outcome(
      upsertPriceListEntries({
        path: { price_list_id: list.id },
        headers: ifMatch(list.version),
        body: { entries: [body.entry] },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.entryProblem.set(entryProblem(result.problem));
      return;
    }
    this.notice.set(this.i18n.t('pricing.price-lists.entry-saved', { sku: this.entry().variant.trim() }));
    this.entry.set(emptyEntry());
    this.entryProblem.set(null);
    await this.reloadOpen();
  }

  protected async removeEntry(list: PriceList, e: Entry): Promise<void> {
    const sku = e.sku ?? e.variant_id;
    if (!confirm(this.i18n.t('pricing.price-lists.confirm-remove', { sku, name: list.name }))) return;
    const result = await outcome(
      deletePriceListEntry({
        path: { price_list_id: list.id, variant_id: e.variant_id },
        headers: ifMatch(list.version),
      }),
    );
    if (!result.ok) {
      this.entriesProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.price-lists.entry-removed', { sku }));
    await this.reloadOpen();
  }

  protected async loadEntries(list: PriceList, more = false): Promise<void> {
    const cursor = more ? (this.entriesNext() ?? undefined) : undefined;
    const result = await outcome(
      listPriceListEntries({ path: { price_list_id: list.id }, query: { limit: 100, cursor } }),
    );
    if (!result.ok) {
      this.entriesProblem.set(result.problem);
      return;
    }
    this.entriesProblem.set(null);
    this.entries.update((old) => (more ? [...old, ...result.data.items] : result.data.items));
    this.entriesNext.set(result.data.next_cursor ?? null);
  }

  // ---- why this price --------------------------------------------------------------------------

  protected verdict(x: PriceExplanation): string {
    if (!x.price) return this.i18n.t('pricing.price-lists.verdict-none', { currency: x.currency });
    const price = amount(x.price.amount, x.price.currency);
    const won = x.price_lists.find((c) => c.won);
    return x.winner === 'price_list' && won
      ? this.i18n.t('pricing.price-lists.verdict-list', { quantity: x.quantity, price, name: won.name })
      : this.i18n.t('pricing.price-lists.verdict-base', { quantity: x.quantity, price });
  }

  /** A variant id as typed, or the id of the variant with the typed SKU. */
  private async variantId(typed: string): Promise<string | null> {
    const text = typed.trim();
    if (isUuid(text)) return text.toLowerCase();
    const fromEntries = this.entries().find((e) => e.sku?.toLowerCase() === text.toLowerCase());
    if (fromEntries) return fromEntries.variant_id;
    let cursor: string | undefined;
    // The 500 most recently changed products: the catalog's admin list has no SKU filter.
    for (let page = 0; page < 5; page++) {
      const result = await outcome(listProducts({ query: { limit: 100, sort: '-modified_at', cursor } }));
      if (!result.ok) return null;
      const found = variantBySku(result.data.items, text);
      if (found) return found.id;
      cursor = result.data.next_cursor ?? undefined;
      if (!cursor) break;
    }
    return null;
  }

  protected async runExplain(): Promise<void> {
    const f = this.explain();
    if (!f.variant.trim()) {
      this.explainProblem.set(localProblem('variant_id', this.i18n.t('pricing.price-lists.variant-required')));
      return;
    }
    const quantity = wholeNumber(f.quantity);
    if (quantity === 'bad' || (quantity !== null && quantity < 1)) {
      this.explainProblem.set(localProblem('quantity', this.i18n.t('pricing.whole-number')));
      return;
    }
    this.explaining.set(true);
    const variant = await this.variantId(f.variant);
    if (!variant) {
      this.explaining.set(false);
      this.explainProblem.set(localProblem('variant_id', this.i18n.t('pricing.price-lists.sku-unknown')));
      this.explanation.set(null);
      return;
    }
    const result = await outcome(
      explainPrice({
        query: {
          variant_id: variant,
          currency: f.currency || undefined,
          quantity: quantity ?? 1,
          customer_group: f.group || undefined,
          at: fromLocalInput(f.at) ?? undefined,
        },
      }),
    );
    this.explaining.set(false);
    if (!result.ok) {
      this.explainProblem.set(result.problem);
      this.explanation.set(null);
      return;
    }
    this.explainProblem.set(null);
    this.explanation.set(result.data);
  }

  // ---- conversion rates ------------------------------------------------------------------------

  protected editRate(r: CurrencyRate): void {
    this.editingRate.set(r);
    this.rate.set({ from: r.from_currency, to: r.to_currency, rate: r.rate, rounding: r.rounding });
    this.rateProblem.set(null);
    setTimeout(() => document.getElementById('rate-value')?.focus());
  }

  protected closeRate(): void {
    this.editingRate.set(null);
    const currency = this.shop.defaultCurrency();
    this.rate.set({
      from: currency,
      to: this.shop.currencies().find((c) => c !== currency) ?? currency,
      rate: '',
      rounding: 'none',
    });
    this.rateProblem.set(null);
  }

  protected async saveRate(): Promise<void> {
    const f = this.rate();
    const rate = rateText(f.rate);
    if (!rate) {
      this.rateProblem.set(localProblem('rate', this.i18n.t('pricing.price-lists.rate-expected')));
      return;
    }
    this.busy.set(true);
    const editing = this.editingRate();
    const result = editing
      ? await outcome(
          updateCurrencyRate({
            path: { currency_rate_id: editing.id },
            headers: ifMatch(editing.version),
            body: { rate, rounding: f.rounding },
          }),
        )
      : await outcome(
          createCurrencyRate({ body: { from_currency: f.from, to_currency: f.to, rate, rounding: f.rounding } }),
        );
    this.busy.set(false);
    if (!result.ok) {
      this.rateProblem.set(result.problem);
      return;
    }
    this.notice.set(
      this.i18n.t('pricing.price-lists.rate-saved', { from: result.data.from_currency, to: result.data.to_currency }),
    );
    this.closeRate();
    await this.loadRates();
  }

  protected async removeRate(r: CurrencyRate): Promise<void> {
    const names = { from: r.from_currency, to: r.to_currency };
    if (!confirm(this.i18n.t('pricing.price-lists.confirm-delete-rate', names))) return;
    const result = await outcome(deleteCurrencyRate({ path: { currency_rate_id: r.id }, headers: ifMatch(r.version) }));
    if (!result.ok) {
      this.ratesProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.price-lists.rate-deleted', names));
    await this.loadRates();
  }

  // ---- loading ---------------------------------------------------------------------------------

  protected async loadLists(more = false): Promise<void> {
    const cursor = more ? (this.listsNext() ?? undefined) : undefined;
    const result = await outcome(listPriceLists({ query: { limit: 100, cursor } }));
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.lists.update((old) => (more ? [...old, ...result.data.items] : result.data.items));
    this.listsNext.set(result.data.next_cursor ?? null);
  }

  protected async loadRates(): Promise<void> {
    const result = await outcome(listCurrencyRates({ query: { limit: 100 } }));
    if (!result.ok) {
      this.ratesProblem.set(result.problem);
      return;
    }
    this.ratesProblem.set(null);
    this.rates.set(result.data.items);
  }

  /** The shop's customer groups, to choose from and to name (staff without access see ids). */
  private async loadGroups(): Promise<void> {
    const result = await outcome(listCustomerGroups({ query: { limit: 100 } }));
    if (result.ok) this.groups.set(result.data.items);
  }
}
