import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal } from '@angular/core';
import { I18n, type Problem } from 'shared';
import type { Variant } from '../catalog/catalog';
import { CartState } from './cart';
import { parseQuantity } from './cart-support';
import { CART_TEXTS } from './translations';

/**
 * "Add to cart" for the chosen variant, with a quantity. Disabled while no variant is chosen, it
 * has no price or it is sold out; a polite status says when it is in the cart, an alert why not.
 */
@Component({
  selector: 'shop-add-to-cart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<form class="add-to-cart" (submit)="add($event)" novalidate>
      <div class="field quantity-field">
        <label for="add-to-cart-quantity">{{ i18n.t('cart.quantity') }}</label>
        <input
          id="add-to-cart-quantity"
          type="number"
          inputmode="numeric"
          min="1"
          step="1"
          [value]="quantityText()"
          (input)="typed($event)"
          [attr.aria-invalid]="invalid() ? 'true' : null"
          [attr.aria-describedby]="invalid() ? 'add-to-cart-quantity-error' : null"
        />
      </div>
      <button type="submit" class="button" [disabled]="!buyable() || cart.busy()">
        {{ i18n.t('cart.add') }}
      </button>
    </form>
    @if (invalid()) {
      <p class="field-error" id="add-to-cart-quantity-error">{{ i18n.t('cart.quantity-invalid') }}</p>
    }
    <p class="add-to-cart-status" role="status" aria-live="polite" data-testid="add-to-cart-status">
      @if (added()) {
        {{ i18n.t('cart.added') }}
      }
    </p>
    @if (refused(); as problem) {
      <p class="problem-alert" role="alert">{{ cart.message(problem) }}</p>
    }`,
})
export class AddToCart {
  protected readonly i18n = inject(I18n);
  protected readonly cart = inject(CartState);

  readonly variant = input<Variant | null>(null);
  protected readonly quantityText = signal('1');
  protected readonly invalid = signal(false);
  protected readonly added = signal(false);
  protected readonly refused = signal<Problem | null>(null);

  /** A variant with a price that is not sold out. */
  protected readonly buyable = computed(() => isBuyable(this.variant()));

  constructor() {
    this.i18n.register(CART_TEXTS);
    void this.cart.ensureLoaded();
    // Another variant: what was said about the last one no longer holds.
    effect(() => {
      this.variant();
      this.added.set(false);
      this.refused.set(null);
    });
  }

  protected typed(event: Event): void {
    this.quantityText.set((event.target as HTMLInputElement).value);
    this.invalid.set(false);
    this.added.set(false);
  }

  protected async add(event: Event): Promise<void> {
    event.preventDefault();
    const variant = this.variant();
    const quantity = parseQuantity(this.quantityText());
    if (!variant || !this.buyable()) {
      return;
    }
    if (!quantity) {
      this.invalid.set(true);
      return;
    }
    this.added.set(false);
    this.refused.set(null);
    const refusal = await this.cart.add(variant.id, quantity);
    this.refused.set(refusal);
    this.added.set(!refusal);
  }
}

/** Whether a variant can go in the cart: it has a price here and is not sold out. */
export function isBuyable(variant: Variant | null | undefined): boolean {
  return !!variant?.price && variant.availability?.status !== 'out_of_stock';
}
