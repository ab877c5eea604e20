import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  addPromotionCode,
  createPromotion,
  deletePromotion,
  disablePromotionCode,
  enablePromotionCode,
  generatePromotionCodes,
  getProduct,
  listCategories,
  listCollections,
  listCustomerGroups,
  listProducts,
  listPromotionCodes,
  listPromotions,
  outcome,
  updatePromotion,
  type CustomerGroup,
  type Problem,
  type Promotion,
  type PromotionCode,
} from 'shared';
import { PRICING_PROMOTIONS } from '../../texts/pricing-promotions';
import { StaffSession } from '../../staff-session';
import { CatalogShop, ifMatch, pick } from '../catalog/catalog-support';
import { localProblem } from '../inventory/inventory-support';
import { dateRange } from './price-lists-support';
import {
  KINDS,
  discountSummary,
  emptyPromotion,
  patchOf,
  placeProblem,
  promotionBody,
  promotionForm,
  toggled,
  usage,
  type PromotionForm,
  type Sent,
} from './promotions-support';

interface Named {
  id: string;
  name: string;
}

interface CodeForm {
  code: string;
  limit: string;
}

interface GenerateForm {
  count: string;
  prefix: string;
  length: string;
  limit: string;
}

type ListKey = 'productIds' | 'categoryIds' | 'collectionIds' | 'groupIds';

const PROMOTION_PLACED = [
  'name',
  'description',
  'trigger',
  'discount.kind',
  'discount.percent_bp',
  'discount.amounts',
  'discount.buy_quantity',
  'discount.get_quantity',
  'discount.tiers',
  'conditions.product_ids',
  'conditions.category_ids',
  'conditions.collection_ids',
  'conditions.customer_group_ids',
  'starts_at',
  'ends_at',
  'usage_limit_per_customer',
  'stacking',
  'priority',
  'status',
  'codes',
  'codes[0].code',
  'codes[0].usage_limit',
];

/** A whole number typed in a field: null when empty, NaN when not a whole number ≥ 0. */
function count(typed: string | number): number | null {
  const text = String(typed ?? '').trim();
  if (text === '') return null;
  return /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Promotions: automatic ones and those a shopper's code triggers, with what they take off, when
 * they apply and how often; and a promotion's codes with their use so far.
 */
@Component({
  selector: 'admin-promotions',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.promotions.title') }}</h1>
    <p>{{ i18n.t('pricing.promotions.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <div class="filters">
      <div class="field">
        <label for="filter-status">{{ i18n.t('pricing.promotions.status') }}</label>
        <select id="filter-status" [value]="statusFilter()" (change)="filter('status', $any($event.target).value)">
          <option value="">{{ i18n.t('pricing.promotions.any') }}</option>
          <option value="active">{{ i18n.t('pricing.promotions.status.active') }}</option>
          <option value="disabled">{{ i18n.t('pricing.promotions.status.disabled') }}</option>
        </select>
      </div>
      <div class="field">
        <label for="filter-trigger">{{ i18n.t('pricing.promotions.trigger') }}</label>
        <select id="filter-trigger" [value]="triggerFilter()" (change)="filter('trigger', $any($event.target).value)">
          <option value="">{{ i18n.t('pricing.promotions.any') }}</option>
          <option value="code">{{ i18n.t('pricing.promotions.trigger.code') }}</option>
          <option value="automatic">{{ i18n.t('pricing.promotions.trigger.automatic') }}</option>
        </select>
      </div>
    </div>
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('pricing.promotions.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('pricing.promotions.name') }}</th>
            <th scope="col">{{ i18n.t('pricing.promotions.trigger') }}</th>
            <th scope="col">{{ i18n.t('pricing.promotions.discount') }}</th>
            <th scope="col">{{ i18n.t('pricing.promotions.status') }}</th>
            <th scope="col">{{ i18n.t('pricing.promotions.when') }}</th>
            <th scope="col">{{ i18n.t('pricing.promotions.redemptions') }}</th>
            <th scope="col">{{ i18n.t('pricing.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (p of promotions(); track p.id) {
            <tr>
              <td>{{ p.name }}</td>
              <td>
                {{ i18n.t('pricing.promotions.trigger.' + p.trigger) }}
                @if (p.trigger === 'code') {
                  ({{ i18n.t('pricing.promotions.code-count', { n: p.code_count }) }})
                }
              </td>
              <td>{{ summary(p) }}</td>
              <td>
                <span class="badge" [class.off]="p.status !== 'active'">{{
                  i18n.t('pricing.promotions.status.' + p.status)
                }}</span>
              </td>
              <td>{{ when(p.starts_at, p.ends_at) }}</td>
              <td>{{ p.redemptions }}</td>
              <td class="row">
                @if (p.trigger === 'code') {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="openCodes(p)"
                    [attr.aria-label]="i18n.t('pricing.promotions.show-codes', { name: p.name })"
                  >
                    {{ i18n.t('pricing.promotions.codes') }}
                  </button>
                }
                @if (canManage()) {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="edit(p)"
                    [attr.aria-label]="i18n.t('pricing.edit-named', { name: p.name })"
                  >
                    {{ i18n.t('pricing.edit') }}
                  </button>
                  <button
                    type="button"
                    class="button secondary"
                    (click)="remove(p)"
                    [attr.aria-label]="i18n.t('pricing.delete-named', { name: p.name })"
                  >
                    {{ i18n.t('pricing.delete') }}
                  </button>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="7">{{ i18n.t(loading() ? 'common.loading' : 'pricing.promotions.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (next()) {
      <button type="button" class="button secondary" (click)="load(true)">
        {{ i18n.t('pricing.promotions.more') }}
      </button>
    }

    @if (open(); as promo) {
      <section class="card" aria-labelledby="codes-title">
        <h2 id="codes-title">{{ i18n.t('pricing.promotions.codes-of', { name: promo.name }) }}</h2>
        <agora-problem-alert [problem]="codesProblem()" />
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">
              {{
                i18n.t('pricing.promotions.codes-of', { name: promo.name })
              }}
            </caption>
            <thead>
              <tr>
                <th scope="col">{{ i18n.t('pricing.promotions.code') }}</th>
                <th scope="col">{{ i18n.t('pricing.promotions.status') }}</th>
                <th scope="col">{{ i18n.t('pricing.promotions.used') }}</th>
                @if (canManage()) {
                  <th scope="col">{{ i18n.t('pricing.actions') }}</th>
                }
              </tr>
            </thead>
            <tbody>
              @for (c of codes(); track c.id) {
                <tr>
                  <td>
                    <code>{{ c.code }}</code>
                  </td>
                  <td>
                    <span class="badge" [class.off]="c.status !== 'active'">{{
                      i18n.t('pricing.promotions.status.' + c.status)
                    }}</span>
                  </td>
                  <td>{{ used(c) }}</td>
                  @if (canManage()) {
                    <td>
                      <button
                        type="button"
                        class="button secondary"
                        (click)="switchCode(promo, c)"
                        [attr.aria-label]="
                          i18n.t(
                            c.status === 'active'
                              ? 'pricing.promotions.disable-code'
                              : 'pricing.promotions.enable-code',
                            { code: c.code }
                          )
                        "
                      >
                        {{ i18n.t(c.status === 'active' ? 'pricing.promotions.disable' : 'pricing.promotions.enable') }}
                      </button>
                    </td>
                  }
                </tr>
              } @empty {
                <tr>
                  <td [attr.colspan]="canManage() ? 4 : 3">{{ i18n.t('pricing.promotions.no-codes') }}</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
        @if (codesNext()) {
          <button type="button" class="button secondary" (click)="loadCodes(promo, true)">
            {{ i18n.t('pricing.promotions.more') }}
          </button>
        }
        @if (canManage()) {
          <div class="grid-3">
            <form (ngSubmit)="addCode(promo)" novalidate aria-labelledby="add-code-title">
              <h3 id="add-code-title">{{ i18n.t('pricing.promotions.add-code') }}</h3>
              <agora-problem-alert [problem]="codeProblem()" [placed]="['code', 'usage_limit']" />
              <div class="field">
                <label for="new-code">{{ i18n.t('pricing.promotions.new-code') }}</label>
                <input
                  id="new-code"
                  name="code"
                  maxlength="64"
                  autocomplete="off"
                  [(ngModel)]="codeForm().code"
                  aria-describedby="new-code-hint"
                />
                <p class="hint" id="new-code-hint">{{ i18n.t('pricing.promotions.code-hint') }}</p>
                <agora-field-error [problem]="codeProblem()" field="code" for="new-code" />
              </div>
              <div class="field">
                <label for="new-code-limit">{{ i18n.t('pricing.promotions.code-limit') }}</label>
                <input id="new-code-limit" name="limit" type="number" min="1" [(ngModel)]="codeForm().limit" />
                <agora-field-error [problem]="codeProblem()" field="usage_limit" for="new-code-limit" />
              </div>
              <button class="button" type="submit" [disabled]="busy()">
                {{ i18n.t('pricing.promotions.add-code') }}
              </button>
            </form>
            <form (ngSubmit)="generate(promo)" novalidate aria-labelledby="generate-title">
              <h3 id="generate-title">{{ i18n.t('pricing.promotions.generate') }}</h3>
              <agora-problem-alert
                [problem]="generateProblem()"
                [placed]="['count', 'prefix', 'length', 'usage_limit']"
              />
              <div class="field">
                <label for="generate-count">{{ i18n.t('pricing.promotions.generate-count') }}</label>
                <input
                  id="generate-count"
                  name="count"
                  type="number"
                  min="1"
                  max="10000"
                  [(ngModel)]="generateForm().count"
                />
                <agora-field-error [problem]="generateProblem()" field="count" for="generate-count" />
              </div>
              <div class="field">
                <label for="generate-prefix">{{ i18n.t('pricing.promotions.generate-prefix') }}</label>
                <input id="generate-prefix" name="prefix" maxlength="32" [(ngModel)]="generateForm().prefix" />
                <agora-field-error [problem]="generateProblem()" field="prefix" for="generate-prefix" />
              </div>
              <div class="field">
                <label for="generate-length">{{ i18n.t('pricing.promotions.generate-length') }}</label>
                <input
                  id="generate-length"
                  name="length"
                  type="number"
                  min="6"
                  max="32"
                  [(ngModel)]="generateForm().length"
                />
                <agora-field-error [problem]="generateProblem()" field="length" for="generate-length" />
              </div>
              <div class="field">
                <label for="generate-limit">{{ i18n.t('pricing.promotions.generate-limit') }}</label>
                <input id="generate-limit" name="limit" type="number" min="1" [(ngModel)]="generateForm().limit" />
                <agora-field-error [problem]="generateProblem()" field="usage_limit" for="generate-limit" />
              </div>
              <button class="button" type="submit" [disabled]="busy()">
                {{ i18n.t('pricing.promotions.generate-run') }}
              </button>
            </form>
          </div>
        }
        <button type="button" class="button secondary" (click)="closeCodes()">
          {{ i18n.t('pricing.promotions.close-codes') }}
        </button>
      </section>
    }

    @if (canManage()) {
      <section class="card" aria-labelledby="promotion-form-title">
        <h2 id="promotion-form-title">
          {{ editing() ? i18n.t('pricing.edit-named', { name: editing()!.name }) : i18n.t('pricing.promotions.new') }}
        </h2>
        <agora-problem-alert [problem]="formProblem()" [placed]="placed()" (reload)="load()" />
        <form (ngSubmit)="save()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="promo-name">{{ i18n.t('pricing.promotions.name') }}</label>
              <input
                id="promo-name"
                name="name"
                maxlength="200"
                [(ngModel)]="form().name"
                aria-describedby="promo-name-hint"
              />
              <p class="hint" id="promo-name-hint">{{ i18n.t('pricing.promotions.name-hint') }}</p>
              <agora-field-error [problem]="formProblem()" field="name" for="promo-name" />
            </div>
            <div class="field">
              <label for="promo-trigger">{{ i18n.t('pricing.promotions.trigger') }}</label>
              <select id="promo-trigger" name="trigger" [(ngModel)]="form().trigger" [disabled]="!!editing()">
                <option value="code">{{ i18n.t('pricing.promotions.trigger.code') }}</option>
                <option value="automatic">{{ i18n.t('pricing.promotions.trigger.automatic') }}</option>
              </select>
            </div>
            <div class="field">
              <label for="promo-status">{{ i18n.t('pricing.promotions.status') }}</label>
              <select id="promo-status" name="status" [(ngModel)]="form().status">
                <option value="active">{{ i18n.t('pricing.promotions.status.active') }}</option>
                <option value="disabled">{{ i18n.t('pricing.promotions.status.disabled') }}</option>
              </select>
            </div>
          </div>
          <div class="field">
            <label for="promo-description">{{ i18n.t('pricing.promotions.description') }}</label>
            <input id="promo-description" name="description" maxlength="2000" [(ngModel)]="form().description" />
            <agora-field-error [problem]="formProblem()" field="description" for="promo-description" />
          </div>

          <fieldset>
            <legend>{{ i18n.t('pricing.promotions.discount') }}</legend>
            <div class="grid-3">
              <div class="field">
                <label for="promo-kind">{{ i18n.t('pricing.promotions.kind') }}</label>
                <select id="promo-kind" name="kind" [(ngModel)]="form().kind">
                  @for (k of kinds; track k) {
                    <option [value]="k">{{ i18n.t('pricing.promotions.kind.' + k) }}</option>
                  }
                </select>
              </div>
              @switch (form().kind) {
                @case ('percentage') {
                  <div class="field">
                    <label for="promo-percent">{{ i18n.t('pricing.promotions.percent') }}</label>
                    <input id="promo-percent" name="percent" inputmode="decimal" [(ngModel)]="form().percent" />
                    <agora-field-error [problem]="formProblem()" field="discount.percent_bp" for="promo-percent" />
                  </div>
                }
                @case ('fixed_amount') {
                  @for (c of shop.currencies(); track c) {
                    <div class="field">
                      <label [for]="'promo-amount-' + c">{{
                        i18n.t('pricing.promotions.amount-off', { currency: c })
                      }}</label>
                      <input
                        [id]="'promo-amount-' + c"
                        [name]="'amount_' + c"
                        inputmode="decimal"
                        [(ngModel)]="form().amounts[c]"
                      />
                      <agora-field-error
                        [problem]="formProblem()"
                        [field]="'discount.amounts.' + c"
                        [for]="'promo-amount-' + c"
                      />
                    </div>
                  }
                  <agora-field-error [problem]="formProblem()" field="discount.amounts" for="promo-kind" />
                }
                @case ('buy_x_get_y') {
                  <div class="field">
                    <label for="promo-buy">{{ i18n.t('pricing.promotions.buy') }}</label>
                    <input id="promo-buy" name="buy" type="number" min="1" [(ngModel)]="form().buyQuantity" />
                    <agora-field-error [problem]="formProblem()" field="discount.buy_quantity" for="promo-buy" />
                  </div>
                  <div class="field">
                    <label for="promo-get">{{ i18n.t('pricing.promotions.get') }}</label>
                    <input id="promo-get" name="get" type="number" min="1" [(ngModel)]="form().getQuantity" />
                    <agora-field-error [problem]="formProblem()" field="discount.get_quantity" for="promo-get" />
                  </div>
                  <div class="field">
                    <label for="promo-get-percent">{{ i18n.t('pricing.promotions.get-percent') }}</label>
                    <input
                      id="promo-get-percent"
                      name="get_percent"
                      inputmode="decimal"
                      [(ngModel)]="form().getPercent"
                    />
                    <agora-field-error [problem]="formProblem()" field="discount.percent_bp" for="promo-get-percent" />
                  </div>
                }
              }
            </div>
            @if (form().kind === 'tiered') {
              <p class="hint">{{ i18n.t('pricing.promotions.tiers-hint') }}</p>
              @for (tier of form().tiers; track $index; let i = $index) {
                <div class="grid-3">
                  <div class="field">
                    <label [for]="'promo-tier-threshold-' + i">{{
                      i18n.t('pricing.promotions.tier-threshold', { n: i + 1 })
                    }}</label>
                    <input
                      [id]="'promo-tier-threshold-' + i"
                      [name]="'tier_threshold_' + i"
                      inputmode="decimal"
                      [(ngModel)]="tier.threshold"
                    />
                    <agora-field-error
                      [problem]="formProblem()"
                      [field]="'discount.tiers[' + i + '].threshold'"
                      [for]="'promo-tier-threshold-' + i"
                    />
                  </div>
                  <div class="field">
                    <label [for]="'promo-tier-currency-' + i">{{
                      i18n.t('pricing.promotions.tier-currency', { n: i + 1 })
                    }}</label>
                    <select [id]="'promo-tier-currency-' + i" [name]="'tier_currency_' + i" [(ngModel)]="tier.currency">
                      @for (c of shop.currencies(); track c) {
                        <option [value]="c">{{ c }}</option>
                      }
                    </select>
                  </div>
                  <div class="field">
                    <label [for]="'promo-tier-percent-' + i">{{
                      i18n.t('pricing.promotions.tier-percent', { n: i + 1 })
                    }}</label>
                    <input
                      [id]="'promo-tier-percent-' + i"
                      [name]="'tier_percent_' + i"
                      inputmode="decimal"
                      [(ngModel)]="tier.percent"
                    />
                    <agora-field-error
                      [problem]="formProblem()"
                      [field]="'discount.tiers[' + i + '].percent_bp'"
                      [for]="'promo-tier-percent-' + i"
                    />
                  </div>
                </div>
              }
              <button type="button" class="button secondary" (click)="addTier()">
                {{ i18n.t('pricing.promotions.add-tier') }}
              </button>
              <agora-field-error [problem]="formProblem()" field="discount.tiers" for="promo-kind" />
            }
          </fieldset>

          @if (form().trigger === 'code' && !editing()) {
            <fieldset>
              <legend>{{ i18n.t('pricing.promotions.first-code') }}</legend>
              <div class="grid-3">
                <div class="field">
                  <label for="promo-code">{{ i18n.t('pricing.promotions.first-code-label') }}</label>
                  <input
                    id="promo-code"
                    name="code"
                    maxlength="64"
                    autocomplete="off"
                    [(ngModel)]="form().code"
                    aria-describedby="promo-code-hint"
                  />
                  <p class="hint" id="promo-code-hint">{{ i18n.t('pricing.promotions.code-hint') }}</p>
                  <agora-field-error [problem]="formProblem()" field="codes[0].code" for="promo-code" />
                </div>
                <div class="field">
                  <label for="promo-code-limit">{{ i18n.t('pricing.promotions.first-code-limit') }}</label>
                  <input
                    id="promo-code-limit"
                    name="code_limit"
                    type="number"
                    min="1"
                    [(ngModel)]="form().codeLimit"
                    aria-describedby="promo-code-limit-hint"
                  />
                  <p class="hint" id="promo-code-limit-hint">{{ i18n.t('pricing.promotions.no-limit-hint') }}</p>
                  <agora-field-error [problem]="formProblem()" field="codes[0].usage_limit" for="promo-code-limit" />
                </div>
              </div>
            </fieldset>
          }

          <fieldset>
            <legend>{{ i18n.t('pricing.promotions.conditions') }}</legend>
            <p class="hint">{{ i18n.t('pricing.promotions.conditions-hint') }}</p>
            <div class="grid-3">
              @for (c of shop.currencies(); track c) {
                <div class="field">
                  <label [for]="'promo-min-' + c">{{ i18n.t('pricing.promotions.minimum', { currency: c }) }}</label>
                  <input
                    [id]="'promo-min-' + c"
                    [name]="'min_' + c"
                    inputmode="decimal"
                    [(ngModel)]="form().minimums[c]"
                  />
                  <agora-field-error
                    [problem]="formProblem()"
                    [field]="'conditions.minimum_subtotal.' + c"
                    [for]="'promo-min-' + c"
                  />
                </div>
              }
            </div>
            <fieldset class="checks">
              <legend>{{ i18n.t('pricing.promotions.groups') }}</legend>
              @for (g of groups(); track g.id) {
                <label>
                  <input
                    type="checkbox"
                    [checked]="form().groupIds.includes(g.id)"
                    (change)="toggle('groupIds', g.id, $any($event.target).checked)"
                  />
                  {{ g.name }}
                </label>
              } @empty {
                <p>{{ i18n.t('pricing.promotions.none-to-choose') }}</p>
              }
            </fieldset>
            <fieldset class="checks categories scrolls">
              <legend>{{ i18n.t('pricing.promotions.categories') }}</legend>
              @for (c of categories(); track c.id) {
                <label>
                  <input
                    type="checkbox"
                    [checked]="form().categoryIds.includes(c.id)"
                    (change)="toggle('categoryIds', c.id, $any($event.target).checked)"
                  />
                  {{ c.name }}
                </label>
              } @empty {
                <p>{{ i18n.t('pricing.promotions.none-to-choose') }}</p>
              }
            </fieldset>
            <fieldset class="checks">
              <legend>{{ i18n.t('pricing.promotions.collections') }}</legend>
              @for (c of collections(); track c.id) {
                <label>
                  <input
                    type="checkbox"
                    [checked]="form().collectionIds.includes(c.id)"
                    (change)="toggle('collectionIds', c.id, $any($event.target).checked)"
                  />
                  {{ c.name }}
                </label>
              } @empty {
                <p>{{ i18n.t('pricing.promotions.none-to-choose') }}</p>
              }
            </fieldset>
            <fieldset class="checks categories scrolls">
              <legend>{{ i18n.t('pricing.promotions.products') }}</legend>
              <div class="row">
                <label class="visually-hidden" for="promo-product-search">{{
                  i18n.t('pricing.promotions.find-products')
                }}</label>
                <input
                  id="promo-product-search"
                  type="search"
                  autocomplete="off"
                  [placeholder]="i18n.t('pricing.promotions.product-name')"
                  [value]="productTerm()"
                  (input)="productTerm.set($any($event.target).value)"
                  (keydown.enter)="$event.preventDefault(); findProducts()"
                />
                <button type="button" class="button secondary" (click)="findProducts()">
                  {{ i18n.t('pricing.promotions.find-products') }}
                </button>
              </div>
              @for (p of productChoices(); track p.id) {
                <label>
                  <input
                    type="checkbox"
                    [checked]="form().productIds.includes(p.id)"
                    (change)="toggle('productIds', p.id, $any($event.target).checked)"
                  />
                  {{ p.name }}
                </label>
              }
            </fieldset>
          </fieldset>

          <div class="grid-3">
            <div class="field">
              <label for="promo-starts">{{ i18n.t('pricing.promotions.starts') }}</label>
              <input id="promo-starts" name="starts_at" type="datetime-local" [(ngModel)]="form().startsAt" />
              <agora-field-error [problem]="formProblem()" field="starts_at" for="promo-starts" />
            </div>
            <div class="field">
              <label for="promo-ends">{{ i18n.t('pricing.promotions.ends') }}</label>
              <input id="promo-ends" name="ends_at" type="datetime-local" [(ngModel)]="form().endsAt" />
              <agora-field-error [problem]="formProblem()" field="ends_at" for="promo-ends" />
            </div>
            <div class="field">
              <label for="promo-per-customer">{{ i18n.t('pricing.promotions.per-customer') }}</label>
              <input
                id="promo-per-customer"
                name="per_customer"
                type="number"
                min="1"
                [(ngModel)]="form().perCustomer"
                aria-describedby="promo-per-customer-hint"
              />
              <p class="hint" id="promo-per-customer-hint">{{ i18n.t('pricing.promotions.no-limit-hint') }}</p>
              <agora-field-error [problem]="formProblem()" field="usage_limit_per_customer" for="promo-per-customer" />
            </div>
            <div class="field">
              <label for="promo-stacking">{{ i18n.t('pricing.promotions.stacking') }}</label>
              <select id="promo-stacking" name="stacking" [(ngModel)]="form().stacking">
                <option value="stackable">{{ i18n.t('pricing.promotions.stacking.stackable') }}</option>
                <option value="exclusive">{{ i18n.t('pricing.promotions.stacking.exclusive') }}</option>
              </select>
            </div>
            <div class="field">
              <label for="promo-priority">{{ i18n.t('pricing.promotions.priority') }}</label>
              <input
                id="promo-priority"
                name="priority"
                type="number"
                min="0"
                [(ngModel)]="form().priority"
                aria-describedby="promo-priority-hint"
              />
              <p class="hint" id="promo-priority-hint">{{ i18n.t('pricing.promotions.priority-hint') }}</p>
              <agora-field-error [problem]="formProblem()" field="priority" for="promo-priority" />
            </div>
          </div>
          @if (editing()) {
            <p class="hint">{{ i18n.t('pricing.promotions.keeps-hint') }}</p>
          }
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editing() ? 'pricing.save' : 'pricing.promotions.create') }}
            </button>
            @if (editing()) {
              <button type="button" class="button secondary" (click)="close()">
                {{ i18n.t('common.cancel') }}
              </button>
            }
          </div>
        </form>
      </section>
    }`,
})
export class PromotionsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('pricing.manage'));
  protected readonly promotions = signal<Promotion[]>([]);
  protected readonly next = signal<string | null>(null);
  protected readonly statusFilter = signal<'' | Promotion['status']>('');
  protected readonly triggerFilter = signal<'' | Promotion['trigger']>('');
  protected readonly loading = signal(true);
  protected readonly busy = signal(false);
  protected readonly notice = signal('');
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly formProblem = signal<Problem | null>(null);
  protected readonly codesProblem = signal<Problem | null>(null);
  protected readonly codeProblem = signal<Problem | null>(null);
  protected readonly generateProblem = signal<Problem | null>(null);
  protected readonly editing = signal<Promotion | null>(null);
  protected readonly form = signal<PromotionForm>(emptyPromotion(''));
  protected readonly groups = signal<CustomerGroup[]>([]);
  protected readonly categories = signal<Named[]>([]);
  protected readonly collections = signal<Named[]>([]);
  protected readonly productTerm = signal('');
  protected readonly foundProducts = signal<Named[]>([]);
  /** Names of products chosen or found, by id. */
  private readonly productNames = signal<Record<string, string>>({});
  protected readonly productChoices = computed(() => {
    const names = this.productNames();
    const chosen = this.form().productIds.map((id) => ({ id, name: names[id] ?? id }));
    const found = this.foundProducts().filter((p) => !this.form().productIds.includes(p.id));
    return [...chosen, ...found];
  });
  protected readonly open = signal<Promotion | null>(null);
  protected readonly codes = signal<PromotionCode[]>([]);
  protected readonly codesNext = signal<string | null>(null);
  protected readonly codeForm = signal<CodeForm>({ code: '', limit: '' });
  protected readonly generateForm = signal<GenerateForm>({ count: '10', prefix: '', length: '', limit: '1' });
  protected readonly kinds = KINDS;
  private sent: Sent = { amounts: [], minimums: [], tierRows: [] };
  /** Fields shown at their input, the per-currency and per-row ones included. */
  protected readonly placed = computed(() => {
    const currencies = this.shop.currencies();
    return [
      ...PROMOTION_PLACED,
      ...currencies.flatMap((c) => [`discount.amounts.${c}`, `conditions.minimum_subtotal.${c}`]),
      ...this.form().tiers.flatMap((_, i) => [`discount.tiers[${i}].threshold`, `discount.tiers[${i}].percent_bp`]),
    ];
  });

  constructor() {
    this.i18n.register(PRICING_PROMOTIONS);
  }

  async ngOnInit(): Promise<void> {
    await Promise.all([this.load(), this.shop.ensureLoaded(), this.loadChoices()]);
    // The tiers' currency once the shop's is known; what the merchant typed meanwhile stays.
    const currency = this.shop.defaultCurrency();
    this.form.update((f) => ({ ...f, tiers: f.tiers.map((t) => ({ ...t, currency: t.currency || currency })) }));
  }

  protected summary(p: Promotion): string {
    return discountSummary(p.discount, (k, params) => this.i18n.t(k, params));
  }

  protected when(starts: string | null | undefined, ends: string | null | undefined): string {
    return dateRange(starts, ends, (k, p) => this.i18n.t(k, p), this.i18n.locale(), 'pricing.promotions');
  }

  protected used(c: PromotionCode): string {
    return usage(c.used, c.usage_limit, (k, p) => this.i18n.t(k, p));
  }

  protected async filter(which: 'status' | 'trigger', value: string): Promise<void> {
    if (which === 'status') this.statusFilter.set(value as '' | Promotion['status']);
    else this.triggerFilter.set(value as '' | Promotion['trigger']);
    await this.load();
  }

  protected toggle(list: ListKey, id: string, on: boolean): void {
    this.form.update((f) => ({ ...f, [list]: toggled(f[list], id, on) }));
  }

  protected addTier(): void {
    this.form.update((f) => ({
      ...f,
      tiers: [...f.tiers, { threshold: '', currency: this.shop.defaultCurrency(), percent: '' }],
    }));
  }

  protected async findProducts(): Promise<void> {
    const name = this.productTerm().trim();
    const result = await outcome(listProducts({ query: { limit: 25, sort: 'name', name: name || undefined } }));
    if (!result.ok) {
      this.formProblem.set(result.problem);
      return;
    }
    const locale = this.shop.defaultLocale();
    const found = result.data.items.map((p) => ({ id: p.id, name: pick(p.name, this.i18n.locale(), locale) || p.id }));
    this.foundProducts.set(found);
    this.productNames.update((names) => ({ ...names, ...Object.fromEntries(found.map((p) => [p.id, p.name])) }));
  }

  // ---- promotions ------------------------------------------------------------------------------

  protected async edit(p: Promotion): Promise<void> {
    this.editing.set(p);
    this.form.set(promotionForm(p, this.shop.defaultCurrency()));
    this.formProblem.set(null);
    setTimeout(() => document.getElementById('promo-name')?.focus());
    const unnamed = p.conditions.product_ids.filter((id) => !(id in this.productNames()));
    const named = await Promise.all(
      unnamed.slice(0, 50).map(async (id) => {
        const r = await outcome(getProduct({ path: { product_id: id } }));
        return [id, r.ok ? pick(r.data.name, this.i18n.locale(), this.shop.defaultLocale()) || id : id] as const;
      }),
    );
    this.productNames.update((names) => ({ ...names, ...Object.fromEntries(named) }));
  }

  protected close(): void {
    this.editing.set(null);
    this.form.set(emptyPromotion(this.shop.defaultCurrency()));
    this.formProblem.set(null);
    this.foundProducts.set([]);
    this.productTerm.set('');
  }

  protected async save(): Promise<void> {
    const built = promotionBody(this.form(), this.shop.currencies());
    if ('error' in built) {
      const { field, expects } = built.error;
      const message = {
        percent: this.i18n.t('pricing.promotions.percent-expected'),
        amount: this.i18n.t('pricing.amount-expected'),
        whole: this.i18n.t('pricing.whole-number'),
      }[expects];
      this.formProblem.set(localProblem(field, message));
      return;
    }
    this.sent = built.sent;
    this.busy.set(true);
    const editing = this.editing();
    const result = editing
      ? await outcome(
          updatePromotion({
            path: { promotion_id: editing.id },
            headers: ifMatch(editing.version),
            body: patchOf(built.body),
          }),
        )
      : await outcome(createPromotion({ body: built.body }));
    this.busy.set(false);
    if (!result.ok) {
      this.formProblem.set(placeProblem(result.problem, this.sent));
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.close();
    await this.load();
    // A new code promotion shows its codes: the merchant sees the one just made, with its use.
    if (!editing && result.data.trigger === 'code') await this.openCodes(result.data);
    else if (this.open()?.id === result.data.id) this.open.set(result.data);
  }

  protected async remove(p: Promotion): Promise<void> {
    if (!confirm(this.i18n.t('pricing.promotions.confirm-delete', { name: p.name }))) return;
    const result = await outcome(deletePromotion({ path: { promotion_id: p.id }, headers: ifMatch(p.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.deleted', { name: p.name }));
    if (this.open()?.id === p.id) this.closeCodes();
    await this.load();
  }

  // ---- codes -----------------------------------------------------------------------------------

  protected async openCodes(p: Promotion): Promise<void> {
    this.open.set(p);
    this.codeProblem.set(null);
    this.generateProblem.set(null);
    await this.loadCodes(p);
    setTimeout(() => document.getElementById('codes-title')?.scrollIntoView());
  }

  protected closeCodes(): void {
    this.open.set(null);
    this.codes.set([]);
    this.codesProblem.set(null);
  }

  protected async addCode(p: Promotion): Promise<void> {
    const f = this.codeForm();
    const limit = count(f.limit);
    if (Number.isNaN(limit)) {
      this.codeProblem.set(localProblem('usage_limit', this.i18n.t('pricing.whole-number')));
      return;
    }
    this.busy.set(true);
    const result = await outcome(
      addPromotionCode({ path: { promotion_id: p.id }, body: { code: f.code.trim(), usage_limit: limit } }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.codeProblem.set(result.problem);
      return;
    }
    this.codeProblem.set(null);
    this.codeForm.set({ code: '', limit: '' });
    this.notice.set(this.i18n.t('pricing.promotions.code-added', { code: result.data.code }));
    await Promise.all([this.loadCodes(p), this.load()]);
  }

  protected async generate(p: Promotion): Promise<void> {
    const f = this.generateForm();
    const numbers = { count: count(f.count), length: count(f.length), usage_limit: count(f.limit) };
    for (const [field, value] of Object.entries(numbers)) {
      if (Number.isNaN(value) || (field === 'count' && value === null)) {
        this.generateProblem.set(localProblem(field, this.i18n.t('pricing.whole-number')));
        return;
      }
    }
    this.busy.set(true);
    const result = await outcome(
      generatePromotionCodes({
        path: { promotion_id: p.id },
        body: {
          count: numbers.count ?? 0,
          prefix: f.prefix.trim() || null,
          length: numbers.length,
          usage_limit: numbers.usage_limit,
        },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.generateProblem.set(result.problem);
      return;
    }
    this.generateProblem.set(null);
    this.notice.set(this.i18n.t('pricing.promotions.generated', { n: result.data.count }));
    await Promise.all([this.loadCodes(p), this.load()]);
  }

  protected async switchCode(p: Promotion, c: PromotionCode): Promise<void> {
    const path = { promotion_id: p.id, code_id: c.id };
    const result = await outcome(
      c.status === 'active' ? disablePromotionCode({ path }) : enablePromotionCode({ path }),
    );
    if (!result.ok) {
      this.codesProblem.set(result.problem);
      return;
    }
    this.codesProblem.set(null);
    this.codes.update((list) => list.map((x) => (x.id === c.id ? result.data : x)));
    this.notice.set(
      this.i18n.t(
        result.data.status === 'active' ? 'pricing.promotions.code-enabled' : 'pricing.promotions.code-disabled',
        { code: c.code },
      ),
    );
  }

  protected async loadCodes(p: Promotion, more = false): Promise<void> {
    const cursor = more ? (this.codesNext() ?? undefined) : undefined;
    const result = await outcome(listPromotionCodes({ path: { promotion_id: p.id }, query: { limit: 100, cursor } }));
    if (!result.ok) {
      this.codesProblem.set(result.problem);
      return;
    }
    this.codesProblem.set(null);
    this.codes.update((old) => (more ? [...old, ...result.data.items] : result.data.items));
    this.codesNext.set(result.data.next_cursor ?? null);
  }

  // ---- loading ---------------------------------------------------------------------------------

  protected async load(more = false): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    const result = await outcome(
      listPromotions({
        query: {
          limit: 100,
          cursor,
          status: this.statusFilter() || undefined,
          trigger: this.triggerFilter() || undefined,
        },
      }),
    );
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.promotions.update((old) => (more ? [...old, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
  }

  /** What conditions can name: customer groups, categories, collections (staff without access see none). */
  private async loadChoices(): Promise<void> {
    await this.shop.ensureLoaded();
    const [groups, categories, collections] = await Promise.all([
      outcome(listCustomerGroups({ query: { limit: 100 } })),
      outcome(listCategories()),
      outcome(listCollections()),
    ]);
    const locale = this.i18n.locale();
    const fallback = this.shop.defaultLocale();
    if (groups.ok) this.groups.set(groups.data.items);
    if (categories.ok) {
      this.categories.set(categories.data.map((c) => ({ id: c.id, name: pick(c.name, locale, fallback) || c.slug })));
    }
    if (collections.ok) {
      this.collections.set(collections.data.map((c) => ({ id: c.id, name: pick(c.name, locale, fallback) || c.slug })));
    }
  }
}
