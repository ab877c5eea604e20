import { Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import {
  I18n,
  acknowledgeCartNotices,
  addCartLine,
  applyCartCode,
  chooseCartShipping,
  createCart,
  getCart,
  outcome,
  problemSlug,
  removeCartCode,
  removeCartLine,
  updateCart,
  updateCartLine,
  type Cart,
  type Outcome,
  type Problem,
  type ShippingChoice,
} from 'shared';
import { Catalog } from '../catalog/catalog';
import { Customer } from '../customer';
import { problemMessage, type Money } from './cart-support';

/** A change's result: nothing when it worked, else the problem the API refused it with. */
export type Refusal = Problem | null;

/**
 * The shopper's cart as every storefront page sees it: loaded once (none yet is an empty cart),
 * changed through the API (each answer is the whole cart, kept as the last word), followed
 * through sign-in (the server merges a guest cart), a change of language (the names) and of
 * currency. The guest cart's token travels in an HttpOnly cookie the page never reads.
 */
@Injectable({ providedIn: 'root' })
export class CartState {
  private readonly i18n = inject(I18n);
  private readonly catalog = inject(Catalog);
  private readonly customer = inject(Customer);

  /** The last answer; `null` while there is no cart (or before it is loaded). */
  readonly cart = signal<Cart | null>(null);
  readonly loaded = signal(false);
  /** A change is on its way: buttons wait for it. */
  readonly busy = signal(false);
  /** Why the cart could not be loaded (not "none yet"). */
  readonly problem = signal<Problem | null>(null);
  readonly itemCount = computed(() => this.cart()?.item_count ?? 0);
  readonly total = computed<Money | null>(() => this.cart()?.totals.total ?? null);
  readonly empty = computed(() => !this.cart()?.lines.length);

  private loading: Promise<void> | null = null;
  private failedCurrency: string | null = null;

  constructor() {
    // The lines' names come in the shopper's language; a sign-in or sign-out changes whose
    // cart it is (the server merges the guest's into the customer's).
    let seen: string | undefined;
    effect(() => {
      const key = `${this.i18n.locale()}|${this.customer.account()?.id ?? ''}`;
      untracked(() => {
        if (seen !== undefined && seen !== key && this.loading) {
          void this.reload();
        }
        seen = key;
      });
    });
    // The currency the shopper chose is the cart's too.
    effect(() => {
      const wanted = this.catalog.requestCurrency();
      const cart = this.cart();
      untracked(() => {
        if (wanted && cart && cart.currency !== wanted && !this.busy() && this.failedCurrency !== wanted) {
          void this.changeCurrency(wanted);
        }
      });
    });
  }

  /** Loads the cart the first time it is asked for. */
  ensureLoaded(): Promise<void> {
    this.loading ??= this.reload();
    return this.loading;
  }

  async reload(): Promise<void> {
    this.loading ??= Promise.resolve();
    const result = await outcome(getCart());
    if (result.ok) {
      this.cart.set(result.data);
      this.problem.set(null);
    } else if (result.status === 404) {
      // No cart yet (or its token opens none any more): an empty cart.
      this.cart.set(null);
      this.problem.set(null);
    } else {
      this.problem.set(result.problem);
    }
    this.loaded.set(true);
  }

  /** Puts `quantity` of a variant in the cart, making the cart (in the shopper's currency) first. */
  async add(variantId: string, quantity: number): Promise<Refusal> {
    return this.change(async () => {
      if (!this.cart()) {
        const currency = this.catalog.requestCurrency();
        if (currency) {
          const made = await this.keep(createCart({ body: { currency } }));
          if (!made.ok) return made;
        }
      }
      return this.keep(addCartLine({ body: { variant_id: variantId, quantity } }));
    });
  }

  /** Sets a line's quantity (0 removes it). */
  setQuantity(lineId: string, quantity: number): Promise<Refusal> {
    return this.change(() => this.keep(updateCartLine({ path: { line_id: lineId }, body: { quantity } })));
  }

  remove(lineId: string): Promise<Refusal> {
    return this.change(() => this.keep(removeCartLine({ path: { line_id: lineId } })));
  }

  applyCode(code: string): Promise<Refusal> {
    return this.change(() => this.keep(applyCartCode({ body: { code: code.trim() } })));
  }

  removeCode(code: string): Promise<Refusal> {
    return this.change(() => this.keep(removeCartCode({ path: { code } })));
  }

  /** Where the cart goes, and by which method or to which store. */
  chooseShipping(choice: ShippingChoice): Promise<Refusal> {
    return this.change(() => this.keep(chooseCartShipping({ body: choice })));
  }

  /** The shopper has read the notices. */
  acknowledge(): Promise<Refusal> {
    return this.change(() => this.keep(acknowledgeCartNotices()));
  }

  /** A refusal in the shopper's words (and language, when read in a template). */
  message(problem: Problem): string {
    return problemMessage(problem, (key, params) => this.i18n.t(key, params));
  }

  private async changeCurrency(currency: string): Promise<void> {
    const result = await this.change(() => this.keep(updateCart({ body: { currency } })));
    if (result) {
      this.failedCurrency = currency;
    }
  }

  /** Runs one change at a time; a cart that is gone meanwhile is read again. */
  private async change(run: () => Promise<Outcome<Cart>>): Promise<Refusal> {
    this.busy.set(true);
    try {
      const result = await run();
      if (result.ok) {
        return null;
      }
      const slug = problemSlug(result.problem);
      if (slug === 'cart-not-found' || slug === 'cart-line-not-found') {
        await this.reload();
      }
      return result.problem;
    } finally {
      this.busy.set(false);
    }
  }

  /** Keeps a cart the API answered with. */
  private async keep(call: Promise<{ data?: Cart; error?: unknown; response?: Response }>): Promise<Outcome<Cart>> {
    const result = await outcome(call);
    if (result.ok) {
      this.cart.set(result.data);
      this.loaded.set(true);
      this.problem.set(null);
    }
    return result;
  }
}
