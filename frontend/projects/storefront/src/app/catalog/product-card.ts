import { ChangeDetectionStrategy, Component, inject, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n } from 'shared';
import { Catalog, type ProductSummary } from './catalog';

/**
 * A product in a grid: its picture (or a placeholder), name and price, linking to its page;
 * marked when none of its variants can be bought now.
 */
@Component({
  selector: 'shop-product-card',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<article class="product-card">
    <a [routerLink]="['/p', product().slug ?? product().id]" class="product-card-link">
      @if (image(); as src) {
        <img [src]="src" alt="" loading="lazy" width="400" height="400" />
      } @else {
        <span class="product-placeholder" aria-hidden="true">{{ initial() }}</span>
      }
      <h3 class="product-name">{{ product().name }}</h3>
    </a>
    @if (product().in_stock === false) {
      <p class="stock-badge">{{ i18n.t('stock.out_of_stock') }}</p>
    }
    <p class="price">
      @if (product().price_from; as price) {
        {{ i18n.t('product.price-from', { price: catalog.format(price) }) }}
      } @else {
        <span class="muted">{{ i18n.t('product.no-price') }}</span>
      }
    </p>
  </article>`,
})
export class ProductCard {
  protected readonly i18n = inject(I18n);
  protected readonly catalog = inject(Catalog);
  readonly product = input.required<ProductSummary>();

  protected initial(): string {
    return this.product().name.trim().charAt(0).toUpperCase();
  }

  /** The product's first image, when the list carries images (a `thumbnail` or `image` URL). */
  protected image(): string | null {
    const summary = this.product() as ProductSummary & { thumbnail?: string | null; image?: string | null };
    return summary.thumbnail ?? summary.image ?? null;
  }
}
