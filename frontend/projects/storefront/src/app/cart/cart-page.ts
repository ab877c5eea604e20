import { ChangeDetectionStrategy, Component, computed, effect, inject, signal } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { RouterLink } from '@angular/router';
import { I18n, outcome, storeShippingCountries, type Problem } from 'shared';
import { Catalog } from '../catalog/catalog';
import { Customer } from '../customer';
import { CartState } from './cart';
import {
  codeReason,
  deliveryTime,
  lineProblem,
  noticeMessage,
  optionsText,
  parseQuantity,
  totalsLines,
  type CartLine,
  type CartNotice,
  type Money,
} from './cart-support';
import { CART_TEXTS } from './translations';

/** What the page last said in its live region, kept as a text key so it follows the language. */
interface Said {
  key: string;
  params?: Record<string, string | number>;
}

/**
 * The cart: its lines (quantity, remove, what is wrong with one), what changed since the shopper
 * last looked, discount codes, a delivery estimate (country, postal code, then the methods and the
 * shop's pickup stores) and the totals as the shop's country shows them.
 */
@Component({
  selector: 'shop-cart-page',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="catalog-page cart-page">
    <h1>{{ i18n.t('cart.title') }}</h1>
    <p class="visually-hidden" role="status" aria-live="polite">{{ saidText() }}</p>
    @if (state.problem(); as problem) {
      <p class="problem-alert" role="alert">{{ state.message(problem) }}</p>
    }
    @if (!state.loaded()) {
      <p role="status">{{ i18n.t('common.loading') }}</p>
    } @else if (cart(); as cart) {
      @if (cart.notices.length) {
        <section class="cart-notices" aria-labelledby="cart-notices-title">
          <h2 id="cart-notices-title">{{ i18n.t('cart.notices') }}</h2>
          <ul>
            @for (notice of cart.notices; track $index) {
              <li>{{ noticeText(notice) }}</li>
            }
          </ul>
          <button type="button" class="button secondary" (click)="acknowledge()" [disabled]="state.busy()">
            {{ i18n.t('cart.notices-ok') }}
          </button>
        </section>
      }
      <div class="cart-layout">
        <section class="cart-lines" aria-labelledby="cart-lines-title">
          <h2 id="cart-lines-title" class="visually-hidden">{{ i18n.t('cart.items') }}</h2>
          <ul class="plain-list">
            @for (line of cart.lines; track line.id) {
              <li class="cart-line" [class.has-problem]="line.problem" data-testid="cart-line">
                <div class="cart-line-info">
                  @if (line.slug) {
                    <a class="cart-line-name" [routerLink]="['/p', line.slug]">{{ line.name }}</a>
                  } @else {
                    <span class="cart-line-name">{{ line.name }}</span>
                  }
                  @if (options(line); as options) {
                    <p class="cart-line-options">{{ options }}</p>
                  }
                  @if (line.sku) {
                    <p class="sku">{{ i18n.t('cart.sku', { sku: line.sku }) }}</p>
                  }
                  @if (line.unit_price; as unit) {
                    <p class="price">
                      <span class="visually-hidden">{{ i18n.t('cart.unit-price') }}:</span>
                      @if (line.compare_at; as compare) {
                        <s class="compare-at"
                          ><span class="visually-hidden">{{ i18n.t('cart.was') }}</span> {{ format(compare) }}</s
                        >
                        <span class="visually-hidden">{{ ' ' + i18n.t('cart.now') }}</span>
                      }
                      {{ format(unit) }}
                    </p>
                  }
                  @if (problemOf(line); as problem) {
                    <p class="line-problem" data-testid="line-problem">{{ problem }}</p>
                  }
                </div>
                <div class="cart-line-actions">
                  <div class="field quantity-field">
                    <label [for]="'quantity-' + line.id"
                      >{{ i18n.t('cart.quantity') }}<span class="visually-hidden">: {{ line.name }}</span></label
                    >
                    <input
                      [id]="'quantity-' + line.id"
                      type="number"
                      inputmode="numeric"
                      min="0"
                      step="1"
                      [value]="line.quantity"
                      (change)="setQuantity(line, $event)"
                      [attr.aria-invalid]="lineErrors()[line.id] ? 'true' : null"
                      [attr.aria-describedby]="lineErrors()[line.id] ? 'quantity-error-' + line.id : null"
                    />
                  </div>
                  <button type="button" class="link-button" (click)="remove(line)" [disabled]="state.busy()">
                    {{ i18n.t('cart.remove') }}<span class="visually-hidden">: {{ line.name }}</span>
                  </button>
                </div>
                <p class="cart-line-total price">
                  <span class="visually-hidden">{{ i18n.t('cart.line-total') }}:</span>
                  {{ line.line_total ? format(line.line_total) : '' }}
                </p>
                @if (lineErrors()[line.id]; as error) {
                  <p class="field-error" [id]="'quantity-error-' + line.id" role="alert">{{ lineError(error) }}</p>
                }
              </li>
            }
          </ul>
        </section>

        <div class="cart-side">
          <section class="card" aria-labelledby="cart-codes-title">
            <h2 id="cart-codes-title">{{ i18n.t('cart.codes') }}</h2>
            <form class="code-form" (submit)="applyCode($event)" novalidate>
              <div class="field">
                <label for="cart-code">{{ i18n.t('cart.code-label') }}</label>
                <div class="row">
                  <input
                    id="cart-code"
                    name="code"
                    autocomplete="off"
                    [value]="code()"
                    (input)="code.set(value($event))"
                    [attr.aria-invalid]="codeError() ? 'true' : null"
                    [attr.aria-describedby]="codeError() ? 'cart-code-error' : null"
                  />
                  <button type="submit" class="button" [disabled]="state.busy()">
                    {{ i18n.t('cart.code-apply') }}
                  </button>
                </div>
                @if (codeError(); as error) {
                  <p class="field-error" id="cart-code-error" role="alert">{{ codeErrorText(error) }}</p>
                }
              </div>
            </form>
            @if (cart.codes.length) {
              <ul class="plain-list cart-codes">
                @for (entered of cart.codes; track entered.code) {
                  <li>
                    <span class="code">{{ entered.code }}</span>
                    @if (entered.applied) {
                      <span class="code-state">{{ i18n.t('cart.code-active') }}</span>
                    } @else {
                      <span class="code-state line-problem">{{ reason(entered.reason) }}</span>
                    }
                    <button
                      type="button"
                      class="link-button"
                      (click)="removeCode(entered.code)"
                      [disabled]="state.busy()"
                    >
                      {{ i18n.t('cart.remove') }}<span class="visually-hidden">: {{ entered.code }}</span>
                    </button>
                  </li>
                }
              </ul>
            }
          </section>

          <section class="card" aria-labelledby="cart-shipping-title">
            <h2 id="cart-shipping-title">{{ i18n.t('cart.shipping') }}</h2>
            @if (!cart.shipping.requires_shipping) {
              <p class="muted">{{ i18n.t('cart.shipping.digital') }}</p>
            } @else {
              <form class="shipping-form" (submit)="estimate($event)" novalidate>
                @if (countries().length) {
                  <div class="field">
                    <label for="cart-country">{{ i18n.t('cart.shipping.country') }}</label>
                    <select id="cart-country" (change)="country.set(value($event))">
                      <option value="" [selected]="!country()">{{ i18n.t('cart.shipping.choose-country') }}</option>
                      @for (code of countries(); track code) {
                        <option [value]="code" [selected]="code === country()">{{ countryName(code) }}</option>
                      }
                    </select>
                  </div>
                } @else if (countriesLoaded()) {
                  @if (!cart.shipping.pickup_locations.length) {
                    <p class="muted">{{ i18n.t('cart.shipping.nowhere') }}</p>
                  }
                  <div class="field">
                    <label for="cart-country">{{ i18n.t('cart.shipping.country-code') }}</label>
                    <input
                      id="cart-country"
                      autocomplete="country"
                      maxlength="2"
                      [value]="country()"
                      (input)="country.set(value($event).toUpperCase())"
                    />
                  </div>
                }
                <div class="field">
                  <label for="cart-postal-code">{{ i18n.t('cart.shipping.postal-code') }}</label>
                  <input
                    id="cart-postal-code"
                    autocomplete="postal-code"
                    [value]="postalCode()"
                    (input)="postalCode.set(value($event))"
                  />
                </div>
                <button type="submit" class="button secondary" [disabled]="state.busy() || !country()">
                  {{ i18n.t('cart.shipping.estimate') }}
                </button>
              </form>
              @if (shippingError(); as error) {
                <p class="problem-alert" role="alert">{{ state.message(error) }}</p>
              }
              @if (cart.shipping.destination) {
                @if (cart.shipping.options.length || cart.shipping.pickup_locations.length) {
                  <fieldset class="delivery-options">
                    <legend>{{ i18n.t('cart.shipping.options') }}</legend>
                    @for (option of cart.shipping.options; track option.method_id) {
                      <label class="delivery-option">
                        <input
                          type="radio"
                          name="delivery"
                          [value]="option.method_id"
                          [checked]="cart.shipping.method_id === option.method_id"
                          (change)="chooseMethod(option.method_id)"
                        />
                        <span class="delivery-name">{{ option.name }}</span>
                        <span class="delivery-price">{{
                          option.price.amount === 0 ? i18n.t('cart.shipping.free') : format(option.price)
                        }}</span>
                        <span class="delivery-time muted">{{ days(option.estimate) }}</span>
                      </label>
                    }
                    @for (store of cart.shipping.pickup_locations; track store.id) {
                      <label class="delivery-option">
                        <input
                          type="radio"
                          name="delivery"
                          [value]="store.id"
                          [checked]="cart.shipping.pickup_location_id === store.id"
                          (change)="choosePickup(store.id)"
                        />
                        <span class="delivery-name">{{ i18n.t('cart.shipping.pickup', { name: store.name }) }}</span>
                        <span class="delivery-price">{{ i18n.t('cart.shipping.free') }}</span>
                        @if (address(store.address); as where) {
                          <span class="delivery-time muted">{{ where }}</span>
                        }
                      </label>
                    }
                  </fieldset>
                } @else {
                  <p class="muted">{{ i18n.t('cart.shipping.none') }}</p>
                }
              }
            }
          </section>

          <section class="card cart-summary" aria-labelledby="cart-summary-title">
            <h2 id="cart-summary-title">{{ i18n.t('cart.summary') }}</h2>
            <div class="cart-totals" data-testid="cart-totals">
              @for (row of totals(); track $index) {
                <p [class]="'totals-line ' + row.kind" [attr.data-kind]="row.kind">
                  <span class="totals-label">{{ row.label }}</span>
                  @if (row.value !== null) {
                    {{ ' ' }}<span class="totals-value">{{ row.value }}</span>
                  }
                </p>
              }
            </div>
          </section>
        </div>
      </div>
    } @else {
      <div class="empty">
        <p>{{ i18n.t('cart.empty') }}</p>
        <p class="muted">{{ i18n.t('cart.empty-hint') }}</p>
        <p>
          <a routerLink="/">{{ i18n.t('cart.continue') }}</a>
        </p>
      </div>
    }
  </div>`,
})
export class CartPage {
  protected readonly i18n = inject(I18n);
  protected readonly state = inject(CartState);
  private readonly catalog = inject(Catalog);
  private readonly customer = inject(Customer);

  /** The cart when it has lines; an empty one is shown as "your cart is empty". */
  protected readonly cart = computed(() => {
    const cart = this.state.cart();
    return cart?.lines.length ? cart : null;
  });
  protected readonly said = signal<Said | null>(null);
  protected readonly saidText = computed(() => {
    const said = this.said();
    return said ? this.i18n.t(said.key, said.params) : '';
  });
  protected readonly lineErrors = signal<Record<string, Problem | 'invalid'>>({});
  protected readonly code = signal('');
  protected readonly codeError = signal<Problem | 'empty' | null>(null);
  protected readonly countries = signal<string[]>([]);
  protected readonly countriesLoaded = signal(false);
  protected readonly country = signal('');
  protected readonly postalCode = signal('');
  protected readonly shippingError = signal<Problem | null>(null);

  protected readonly totals = computed(() => {
    const cart = this.cart();
    return cart ? totalsLines(cart, this.t, (money) => this.format(money), this.i18n.locale()) : [];
  });

  private readonly t = (key: string, params?: Record<string, string | number>) => this.i18n.t(key, params);

  constructor() {
    this.i18n.register(CART_TEXTS);
    void this.state.reload();
    void this.loadCountries();
    const title = inject(Title);
    effect(() => {
      const shop = this.customer.shop()?.name;
      const heading = this.i18n.t('cart.title');
      title.setTitle(shop ? `${heading} | ${shop}` : heading);
    });
    // The destination the cart has is where the form starts.
    effect(() => {
      const destination = this.state.cart()?.shipping.destination;
      if (destination && !this.country()) {
        this.country.set(destination.country);
        this.postalCode.set(destination.postal_code ?? '');
      }
    });
  }

  protected format(money: Money): string {
    return this.catalog.format(money);
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement | HTMLSelectElement).value;
  }

  protected options(line: CartLine): string {
    return optionsText(line);
  }

  protected problemOf(line: CartLine): string | null {
    return lineProblem(line, this.cart()?.currency ?? '', this.t);
  }

  protected noticeText(notice: CartNotice): string {
    const cart = this.cart();
    return cart ? noticeMessage(notice, cart, this.t, (money) => this.format(money)) : '';
  }

  protected reason(reason: string | null | undefined): string {
    return codeReason(reason, this.t);
  }

  protected days(estimate: Parameters<typeof deliveryTime>[0]): string {
    return deliveryTime(estimate, this.t);
  }

  protected countryName(code: string): string {
    try {
      return new Intl.DisplayNames(this.i18n.locale(), { type: 'region' }).of(code) ?? code;
    } catch {
      return code;
    }
  }

  protected address(address: { line1?: string | null; postal_code?: string | null; city?: string | null }): string {
    return [address.line1, [address.postal_code, address.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  }

  protected lineError(error: Problem | 'invalid'): string {
    return error === 'invalid' ? this.i18n.t('cart.quantity-invalid') : this.state.message(error);
  }

  protected codeErrorText(error: Problem | 'empty'): string {
    return error === 'empty' ? this.i18n.t('cart.code-empty') : this.state.message(error);
  }

  protected async setQuantity(line: CartLine, event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const quantity = parseQuantity(input.value);
    if (quantity === null) {
      this.lineErrors.update((errors) => ({ ...errors, [line.id]: 'invalid' }));
      return;
    }
    if (quantity === line.quantity) {
      this.clearLineError(line.id);
      return;
    }
    const refusal = await this.state.setQuantity(line.id, quantity);
    if (refusal) {
      this.lineErrors.update((errors) => ({ ...errors, [line.id]: refusal }));
      // The field shows the quantity the cart still has.
      input.value = String(this.state.cart()?.lines.find((l) => l.id === line.id)?.quantity ?? line.quantity);
    } else {
      this.clearLineError(line.id);
      this.said.set(quantity === 0 ? { key: 'cart.removed', params: { name: line.name } } : { key: 'cart.updated' });
    }
  }

  protected async remove(line: CartLine): Promise<void> {
    const refusal = await this.state.remove(line.id);
    if (refusal) {
      this.lineErrors.update((errors) => ({ ...errors, [line.id]: refusal }));
    } else {
      this.clearLineError(line.id);
      this.said.set({ key: 'cart.removed', params: { name: line.name } });
    }
  }

  protected async applyCode(event: Event): Promise<void> {
    event.preventDefault();
    const code = this.code().trim();
    if (!code) {
      this.codeError.set('empty');
      return;
    }
    const refusal = await this.state.applyCode(code);
    this.codeError.set(refusal);
    if (!refusal) {
      this.code.set('');
      this.said.set({ key: 'cart.code-applied', params: { code: code.toUpperCase() } });
    }
  }

  protected async removeCode(code: string): Promise<void> {
    const refusal = await this.state.removeCode(code);
    this.codeError.set(refusal);
    if (!refusal) {
      this.said.set({ key: 'cart.code-removed', params: { code } });
    }
  }

  protected async estimate(event: Event): Promise<void> {
    event.preventDefault();
    const country = this.country().trim().toUpperCase();
    if (!country) return;
    await this.ship({ country, postal_code: this.postalCode().trim() || null });
  }

  protected chooseMethod(methodId: string): Promise<void> {
    return this.ship({ ...this.destination(), method_id: methodId });
  }

  protected choosePickup(storeId: string): Promise<void> {
    return this.ship({ ...this.destination(), pickup_location_id: storeId });
  }

  protected async acknowledge(): Promise<void> {
    const refusal = await this.state.acknowledge();
    if (refusal) this.state.problem.set(refusal);
  }

  private destination(): { country: string; postal_code: string | null; region: string | null } {
    const destination = this.state.cart()?.shipping.destination;
    return {
      country: destination?.country ?? this.country().trim().toUpperCase(),
      postal_code: destination?.postal_code ?? null,
      region: destination?.region ?? null,
    };
  }

  private async ship(choice: Parameters<CartState['chooseShipping']>[0]): Promise<void> {
    const refusal = await this.state.chooseShipping(choice);
    this.shippingError.set(refusal);
    if (!refusal) this.said.set({ key: 'cart.shipping.chosen' });
  }

  private clearLineError(id: string): void {
    this.lineErrors.update((errors) => {
      const rest = { ...errors };
      delete rest[id];
      return rest;
    });
  }

  private async loadCountries(): Promise<void> {
    const result = await outcome(storeShippingCountries());
    if (result.ok) {
      this.countries.set(result.data.countries);
    }
    this.countriesLoaded.set(true);
  }
}
