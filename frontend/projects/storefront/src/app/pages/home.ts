import { ChangeDetectionStrategy, Component, effect, inject, signal, untracked } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n, listStoreProducts, outcome } from 'shared';
import { Catalog, type ProductSummary } from '../catalog/catalog';
import { ProductCard } from '../catalog/product-card';
import { Customer } from '../customer';

/** The shop's front page: its categories to browse, and its newest products. */
@Component({
  selector: 'shop-home',
  imports: [RouterLink, ProductCard],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="catalog-page">
    <section class="hero">
      <h1>{{ i18n.t('home.title', { shop: customer.shop()?.name ?? '' }) }}</h1>
      <p class="lead">{{ i18n.t('home.browse') }}</p>
    </section>
    @if (catalog.topCategories().length) {
      <section [attr.aria-labelledby]="'featured-title'">
        <h2 id="featured-title">{{ i18n.t('home.categories') }}</h2>
        <ul class="category-tiles">
          @for (category of catalog.topCategories(); track category.id) {
            <li>
              <a class="category-tile" [routerLink]="['/c', category.slug]">
                <span class="tile-name">{{ category.name }}</span>
                @if (category.description) {
                  <span class="tile-description">{{ category.description }}</span>
                }
              </a>
            </li>
          }
        </ul>
      </section>
    }
    <section [attr.aria-labelledby]="'new-title'">
      <h2 id="new-title">{{ i18n.t('home.new') }}</h2>
      @if (loaded() && products().length === 0) {
        <p>{{ i18n.t('home.empty') }}</p>
      }
      <ul class="product-grid">
        @for (product of products(); track product.id) {
          <li><shop-product-card [product]="product" /></li>
        }
      </ul>
    </section>
    @if (!customer.signedIn()) {
      <p class="home-register">
        {{ i18n.t('home.intro-account') }}
        <a routerLink="/register">{{ i18n.t('nav.register') }}</a>
      </p>
    }
  </div>`,
})
export class Home {
  protected readonly i18n = inject(I18n);
  protected readonly customer = inject(Customer);
  protected readonly catalog = inject(Catalog);
  protected readonly products = signal<ProductSummary[]>([]);
  protected readonly loaded = signal(false);

  constructor() {
    effect(() => {
      this.i18n.locale();
      const currency = this.catalog.requestCurrency();
      untracked(() => void this.load(currency));
    });
  }

  private async load(currency: string | undefined): Promise<void> {
    const result = await outcome(listStoreProducts({ query: { limit: 8, sort: '-newest', currency } }));
    if (result.ok) {
      this.products.set(result.data.items);
    }
    this.loaded.set(true);
  }
}
