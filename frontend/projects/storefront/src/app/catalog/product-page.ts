import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { Router, RouterLink } from '@angular/router';
import { I18n, getStoreProduct, outcome, type Problem, type StoreProduct } from 'shared';
import { AddToCart } from '../cart/add-to-cart';
import { Customer } from '../customer';
import { Breadcrumbs } from './breadcrumbs';
import { Catalog, type Variant } from './catalog';
import { picture, type Picture } from './pictures';

/**
 * A product by its slug in any language: a gallery, the variant picker (one choice per option,
 * which sets price, SKU and availability), description, attributes and breadcrumbs. The address
 * follows the product: an old slug, or a switch of language, replaces it with the current slug
 * in the shown language (`?lang=` for languages other than the shop's default).
 */
@Component({
  selector: 'shop-product-page',
  imports: [RouterLink, Breadcrumbs, AddToCart],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `@if (product(); as product) {
      <div class="catalog-page">
        <shop-breadcrumbs [trail]="trail()" [current]="product.name" />
        <div class="product-layout">
          <section class="gallery" [attr.aria-label]="i18n.t('product.gallery')">
            @if (pictures().length) {
              @let main = pictures()[shown()];
              <img
                class="gallery-main"
                [src]="main.src"
                [attr.srcset]="main.srcset"
                sizes="(min-width: 48rem) 50vw, 100vw"
                [width]="main.width"
                [height]="main.height"
                [alt]="main.alt"
              />
              @if (pictures().length > 1) {
                <ul class="gallery-thumbs">
                  @for (picture of pictures(); track picture.src; let i = $index) {
                    <li>
                      <button
                        type="button"
                        (click)="shown.set(i)"
                        [attr.aria-pressed]="i === shown()"
                        [attr.aria-label]="i18n.t('product.show-picture', { n: i + 1 })"
                      >
                        <img [src]="picture.thumb" alt="" width="64" height="64" />
                      </button>
                    </li>
                  }
                </ul>
              }
            } @else {
              <div class="product-placeholder large" role="img" [attr.aria-label]="i18n.t('product.no-picture')">
                <span aria-hidden="true">{{ product.name.charAt(0).toUpperCase() }}</span>
              </div>
            }
          </section>
          <section class="buy-box">
            <h1>{{ product.name }}</h1>
            <p class="price large" data-testid="price">
              @if (variant()?.price; as price) {
                @if (variant()?.compare_at; as compare) {
                  <s class="compare-at"
                    ><span class="visually-hidden">{{ i18n.t('product.was') }}</span> {{ catalog.format(compare) }}</s
                  >
                  <span class="visually-hidden">{{ ' ' + i18n.t('product.now') }}</span>
                }
                {{ catalog.format(price) }}
              } @else {
                <span class="muted">{{ i18n.t('product.no-price') }}</span>
              }
            </p>
            @for (option of product.options; track option.name) {
              <fieldset class="option-picker">
                <legend>{{ option.name }}</legend>
                <div class="option-values">
                  @for (value of option.values; track value) {
                    <label class="option-value" [class.chosen]="choice()[option.name] === value">
                      <input
                        type="radio"
                        [name]="'option-' + option.name"
                        [value]="value"
                        [checked]="choice()[option.name] === value"
                        (change)="pick(option.name, value)"
                      />
                      {{ value }}
                    </label>
                  }
                </div>
              </fieldset>
            }
            <p role="status" [class]="'availability ' + stockState()" data-testid="availability">
              {{ availabilityText() }}
            </p>
            <shop-add-to-cart [variant]="variant()" />
            @if (variant(); as variant) {
              <p class="sku">
                {{ i18n.t('product.sku') }}: <span data-testid="sku">{{ variant.sku }}</span>
              </p>
            }
          </section>
        </div>
        @if (product.description) {
          <section class="description">
            <h2>{{ i18n.t('product.description') }}</h2>
            <p>{{ product.description }}</p>
          </section>
        }
        @if (attributes().length) {
          <section class="attributes">
            <h2>{{ i18n.t('product.details') }}</h2>
            <dl>
              @for (attribute of attributes(); track attribute.code) {
                <div>
                  <dt>{{ attribute.label }}</dt>
                  <dd>{{ attribute.value }}</dd>
                </div>
              }
            </dl>
          </section>
        }
      </div>
    } @else if (missing()) {
      <div class="page">
        <h1>{{ i18n.t('product.not-found') }}</h1>
        <p>
          <a routerLink="/">{{ i18n.t('notfound.home') }}</a>
        </p>
      </div>
    } @else if (problem(); as problem) {
      <div class="page">
        <p class="problem-alert" role="alert">{{ problem.detail }}</p>
      </div>
    } @else {
      <p class="page" role="status">{{ i18n.t('common.loading') }}</p>
    }`,
})
export class ProductPage {
  protected readonly i18n = inject(I18n);
  protected readonly catalog = inject(Catalog);
  private readonly customer = inject(Customer);
  private readonly router = inject(Router);
  private readonly title = inject(Title);

  readonly slug = input.required<string>();
  protected readonly product = signal<StoreProduct | null>(null);
  protected readonly missing = signal(false);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly choice = signal<Record<string, string>>({});
  protected readonly shown = signal(0);
  private asked = 0;

  protected readonly trail = computed(() => {
    const trail = this.product()?.categories[0] ?? [];
    return trail;
  });

  /** The variant whose option values are all the chosen ones. */
  protected readonly variant = computed<Variant | null>(() => {
    const product = this.product();
    if (!product) {
      return null;
    }
    const choice = this.choice();
    return (
      product.variants.find((v) => product.options.every((o) => v.option_values[o.name] === choice[o.name])) ?? null
    );
  });

  /** The chosen variant's stock state as a class (`in_stock`, `out_of_stock`…), for its colour. */
  protected readonly stockState = computed(() => this.variant()?.availability?.status ?? '');

  /** What the shopper reads about the chosen variant: sold here at all, and its stock. */
  protected readonly availabilityText = computed(() =>
    availabilityText(this.variant(), (key, params) => this.i18n.t(key, params), this.i18n.locale()),
  );

  protected readonly pictures = computed<Picture[]>(() => {
    const product = this.product();
    if (!product) {
      return [];
    }
    // The largest rendering on the page (the browser picks from the srcset), the smallest for the
    // thumbnail buttons; a picture without alt text is described by the product's name.
    return product.media.flatMap((medium) => picture(medium, product.name) ?? []);
  });

  protected readonly attributes = computed(() =>
    Object.entries(this.product()?.attributes ?? {}).map(([code, value]) => ({
      code,
      label: code.charAt(0).toUpperCase() + code.slice(1).replaceAll('_', ' '),
      value: display(value, (yes) => this.i18n.t(yes ? 'product.yes' : 'product.no')),
    })),
  );

  constructor() {
    effect(() => {
      const slug = this.slug();
      this.i18n.locale();
      this.catalog.requestCurrency();
      untracked(() => void this.load(slug));
    });
    effect(() => {
      const name = this.product()?.seo_title || this.product()?.name;
      const shop = this.customer.shop()?.name;
      if (name) {
        this.title.setTitle(shop ? `${name} | ${shop}` : name);
      }
    });
  }

  protected pick(option: string, value: string): void {
    this.choice.update((c) => ({ ...c, [option]: value }));
  }

  private async load(slug: string): Promise<void> {
    const question = ++this.asked;
    const result = await outcome(
      getStoreProduct({ path: { key: slug }, query: { currency: this.catalog.requestCurrency() } }),
    );
    if (question !== this.asked) {
      return;
    }
    if (!result.ok) {
      this.product.set(null);
      this.missing.set(result.status === 404);
      this.problem.set(result.status === 404 ? null : result.problem);
      return;
    }
    const product = result.data;
    const previous = this.product();
    this.missing.set(false);
    this.problem.set(null);
    this.product.set(product);
    if (previous?.id !== product.id) {
      this.shown.set(0);
      // The first variant that has a price is chosen to start with.
      const first = product.variants.find((v) => v.price) ?? product.variants[0];
      this.choice.set(first ? { ...first.option_values } : {});
    }
    // An old slug, or the slug of another language: show the current one in this language.
    const current = product.slug ?? slug;
    const here = new URL(globalThis.location?.href ?? 'http://localhost/');
    const defaultLocale = this.customer.shop()?.default_locale;
    // Until the shop's settings are in, the address keeps whatever language it named.
    const lang =
      defaultLocale === undefined
        ? here.searchParams.get('lang')
        : product.locale === defaultLocale
          ? null
          : product.locale;
    if (current !== slug || here.searchParams.get('lang') !== lang) {
      await this.router.navigate(['/p', current], {
        queryParams: { lang },
        queryParamsHandling: 'merge',
        replaceUrl: true,
      });
    }
  }
}

function display(value: unknown, flag: (yes: boolean) => string): string {
  if (Array.isArray(value)) {
    return value.map((v) => display(v, flag)).join(', ');
  }
  if (typeof value === 'boolean') {
    return flag(value);
  }
  return String(value ?? '');
}

/**
 * The availability line for a variant: none chosen, not sold in the currency, or its stock —
 * in stock, only a few left, out of stock, on backorder, or a preorder with its date. A variant
 * whose stock is not counted (`availability: null`) is simply available.
 */
export function availabilityText(
  variant: Variant | null,
  t: (key: string, params?: Record<string, string | number>) => string,
  locale: string,
): string {
  if (!variant) {
    return t('product.unavailable');
  }
  if (!variant.price) {
    return t('product.unavailable-currency');
  }
  const availability = variant.availability;
  if (!availability) {
    return t('product.available');
  }
  if (availability.status === 'preorder') {
    const until = availability.preorder_until;
    return until
      ? t('stock.preorder-from', {
          date: new Intl.DateTimeFormat(locale, { dateStyle: 'long' }).format(new Date(until)),
        })
      : t('stock.preorder');
  }
  return t(`stock.${availability.status}`);
}
