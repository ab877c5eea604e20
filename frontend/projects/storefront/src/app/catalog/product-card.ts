import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n } from 'shared';
import { Catalog, type ProductSummary } from './catalog';
import { picture } from './pictures';

/**
 * A product in a grid: its picture (or a placeholder), name and price (with the was-price struck
 * through when it is reduced), linking to its page; marked when none of its variants can be
 * bought now.
 */
@Component({
  selector: 'shop-product-card',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<article class="product-card">
    <a [routerLink]="['/p', product().slug ?? product().id]" class="product-card-link">
      @if (picture(); as picture) {
        <!-- Its own size, so the grid does not jump as pictures arrive; the card is about a
             third of the page wide at most, half of a phone's. -->
        <img
          [src]="picture.src"
          [attr.srcset]="picture.srcset"
          sizes="(min-width: 48rem) 16rem, 50vw"
          [width]="picture.width"
          [height]="picture.height"
          [alt]="picture.alt"
          loading="lazy"
          decoding="async"
        />
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
        @if (product().compare_at; as compare) {
          <s class="compare-at"
            ><span class="visually-hidden">{{ i18n.t('product.was') }}</span> {{ catalog.format(compare) }}</s
          >
          <span class="visually-hidden">{{ ' ' + i18n.t('product.now') }}</span>
        }
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

  /**
   * The product's first picture. Its alt text only when the merchant wrote one: the product's
   * name is the link's text right below, and an alt repeating it would be read twice.
   */
  protected readonly picture = computed(() => {
    const image = this.product().image;
    return image ? picture(image, '') : null;
  });

  protected initial(): string {
    return this.product().name.trim().charAt(0).toUpperCase();
  }
}
