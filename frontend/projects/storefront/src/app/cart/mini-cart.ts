import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive } from '@angular/router';
import { I18n } from 'shared';
import { Catalog } from '../catalog/catalog';
import { CartState } from './cart';
import { CART_TEXTS } from './translations';

/** The header's link to the cart: how many items, and what they come to. */
@Component({
  selector: 'shop-mini-cart',
  imports: [RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<a class="mini-cart" routerLink="/cart" routerLinkActive="active" ariaCurrentWhenActive="page">
    <span class="mini-cart-count">{{ i18n.t('cart.link', { count: cart.itemCount() }) }}</span>
    @if (cart.itemCount() && cart.total(); as total) {
      {{ ' ' }}<span class="mini-cart-total">{{ i18n.t('cart.link-total', { total: catalog.format(total) }) }}</span>
    }
  </a>`,
})
export class MiniCart {
  protected readonly i18n = inject(I18n);
  protected readonly catalog = inject(Catalog);
  protected readonly cart = inject(CartState);

  constructor() {
    this.i18n.register(CART_TEXTS);
    void this.cart.ensureLoaded();
  }
}
