import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { Router, RouterLink } from '@angular/router';
import {
  I18n,
  getStoreCategory,
  getStoreCollection,
  listStoreProducts,
  outcome,
  searchStoreProducts,
  type ListStoreProductsData,
  type StoreCategory,
  type Problem,
} from 'shared';
import { Customer } from '../customer';
import { Breadcrumbs } from './breadcrumbs';
import { Catalog, fractionDigits, type Crumb, type Facets, type ProductSummary } from './catalog';
import { ProductCard } from './product-card';

type Kind = 'category' | 'collection' | 'search';
type ListSort = NonNullable<NonNullable<ListStoreProductsData['query']>['sort']>;
const PAGE = 24;
/** The search answers at most this many hits, best first. */
const MOST_HITS = 96;
const SORTS: Record<Kind, string[]> = {
  category: ['-newest', 'price', '-price', 'name'],
  collection: ['-newest', 'price', '-price', 'name'],
  search: ['relevance', 'price', '-price', 'name'],
};

/**
 * A category's or a collection's products, or search results: facets as filters with their
 * counts, a price range, "in stock only", sorting and "load more". Every filter lives in the URL
 * (`attributes`, `min`, `max`, `in_stock`, `sort`, `q`), so a filtered page can be shared and
 * the back button undoes a filter.
 */
@Component({
  selector: 'shop-product-list',
  imports: [RouterLink, ProductCard, Breadcrumbs],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="catalog-page">
    <shop-breadcrumbs [trail]="trail()" [current]="heading()" />
    <h1>{{ heading() }}</h1>
    @if (description()) {
      <p class="lead">{{ description() }}</p>
    }
    @if (missing()) {
      <p class="notice">{{ i18n.t('catalog.not-found') }}</p>
      <p>
        <a routerLink="/">{{ i18n.t('notfound.home') }}</a>
      </p>
    } @else {
      <div class="catalog-layout">
        <aside class="filters" [attr.aria-label]="i18n.t('catalog.filters')" [hidden]="!filtered() && total() === 0">
          <h2 class="filters-title">{{ i18n.t('catalog.filters') }}</h2>
          @for (facet of attributeFacets(); track facet.code) {
            <fieldset class="facet">
              <legend>{{ label(facet.code) }}</legend>
              @for (option of facet.values; track option.value) {
                <label class="check">
                  <input
                    type="checkbox"
                    [checked]="option.selected"
                    (change)="toggle(facet.code, option.value)"
                    [attr.data-facet]="facet.code + ':' + option.value"
                  />
                  {{ option.value }} <span class="count">({{ option.count }})</span>
                </label>
              }
            </fieldset>
          }
          <label class="check in-stock">
            <input type="checkbox" [checked]="inStockOnly()" (change)="toggleInStock($event)" />
            {{ i18n.t('stock.in-stock-only') }}
          </label>
          <form class="facet" (submit)="applyPrice($event)">
            <fieldset>
              <legend>{{ i18n.t('catalog.price') }}</legend>
              @if (facets()?.price; as range) {
                <p class="hint">{{ catalog.format(range.min) }} – {{ catalog.format(range.max) }}</p>
              }
              <div class="price-range">
                <div class="field">
                  <label for="price-min">{{ i18n.t('catalog.price-min') }}</label>
                  <input
                    id="price-min"
                    name="min"
                    type="number"
                    min="0"
                    step="any"
                    inputmode="decimal"
                    [value]="min() ?? ''"
                  />
                </div>
                <div class="field">
                  <label for="price-max">{{ i18n.t('catalog.price-max') }}</label>
                  <input
                    id="price-max"
                    name="max"
                    type="number"
                    min="0"
                    step="any"
                    inputmode="decimal"
                    [value]="max() ?? ''"
                  />
                </div>
              </div>
              <button class="button secondary" type="submit">{{ i18n.t('catalog.apply') }}</button>
            </fieldset>
          </form>
          @if (filtered()) {
            <p>
              <button type="button" class="link-button" (click)="clear()">{{ i18n.t('catalog.clear') }}</button>
            </p>
          }
        </aside>
        <section class="results" [attr.aria-label]="i18n.t('catalog.results')" [attr.aria-busy]="loading()">
          <div class="results-bar">
            <p role="status" class="count">
              @if (!loading()) {
                {{ i18n.t(total() === 1 ? 'catalog.count-one' : 'catalog.count', { count: total() }) }}
              }
            </p>
            <div class="sort">
              <label for="sort">{{ i18n.t('catalog.sort') }}</label>
              <select id="sort" (change)="sortBy($event)">
                @for (option of sorts(); track option) {
                  <option [value]="option" [selected]="option === currentSort()">{{ i18n.t('sort.' + option) }}</option>
                }
              </select>
            </div>
          </div>
          @if (problem(); as problem) {
            <p class="problem-alert" role="alert">{{ problem.detail }}</p>
          }
          @if (didYouMean().length) {
            <p class="did-you-mean">
              {{ i18n.t('search.did-you-mean') }}
              @for (suggestion of didYouMean(); track suggestion; let last = $last) {
                <a [routerLink]="['/search']" [queryParams]="{ q: suggestion }">{{ suggestion }}</a>{{
                  last ? '?' : ', '
                }}
              }
            </p>
          }
          @if (!loading() && items().length === 0) {
            <div class="empty">
              <p>
                {{
                  i18n.t(filtered() ? 'catalog.empty-filtered' : kind() === 'search' ? 'search.empty' : 'catalog.empty')
                }}
              </p>
              @if (filtered()) {
                <button type="button" class="button secondary" (click)="clear()">{{ i18n.t('catalog.clear') }}</button>
              }
            </div>
          }
          <ul class="product-grid">
            @for (product of items(); track product.id) {
              <li><shop-product-card [product]="product" /></li>
            }
          </ul>
          @if (more()) {
            <p class="load-more">
              <button type="button" class="button secondary" (click)="loadMore()" [disabled]="loading()">
                {{ i18n.t('catalog.load-more') }}
              </button>
            </p>
          }
        </section>
      </div>
    }
  </div>`,
})
export class ProductList {
  protected readonly i18n = inject(I18n);
  protected readonly catalog = inject(Catalog);
  private readonly customer = inject(Customer);
  private readonly router = inject(Router);
  private readonly title = inject(Title);

  // Bound from the route: its data (`kind`), its path (`slug`) and its query.
  readonly kind = input<Kind>('category');
  readonly slug = input<string>();
  readonly q = input<string>();
  readonly attributes = input<string>();
  readonly min = input<string>();
  readonly max = input<string>();
  readonly sort = input<string>();
  /** `in_stock=true`: only products that can be bought now. */
  readonly in_stock = input<string>();

  protected readonly heading = signal('');
  protected readonly description = signal<string | null>(null);
  protected readonly trail = signal<Crumb[]>([]);
  protected readonly items = signal<ProductSummary[]>([]);
  protected readonly facets = signal<Facets | null>(null);
  protected readonly didYouMean = signal<string[]>([]);
  protected readonly loading = signal(true);
  protected readonly missing = signal(false);
  protected readonly problem = signal<Problem | null>(null);
  private readonly cursor = signal<string | null>(null);
  private readonly limit = signal(PAGE);
  private readonly currencyShown = signal<string | null>(null);
  /** Only the newest request's answer is shown (a quick second filter overtakes the first). */
  private asked = 0;

  protected readonly sorts = computed(() => SORTS[this.kind()]);
  protected readonly currentSort = computed(() => {
    const sort = this.sort();
    return sort && this.sorts().includes(sort) ? sort : this.sorts()[0];
  });
  protected readonly selected = computed(() => parseAttributes(this.attributes()));
  protected readonly inStockOnly = computed(() => this.in_stock() === 'true');
  protected readonly filtered = computed(
    () => this.selected().length > 0 || !!this.min() || !!this.max() || this.inStockOnly(),
  );
  protected readonly total = computed(() => this.facets()?.total ?? this.items().length);
  protected readonly more = computed(() =>
    this.kind() === 'search' ? this.items().length >= this.limit() && this.limit() < MOST_HITS : this.cursor() !== null,
  );

  /** Each attribute's values with their counts; a chosen value stays listed even at 0. */
  protected readonly attributeFacets = computed(() => {
    const counts = this.facets()?.attributes ?? {};
    const chosen = this.selected();
    const codes = new Set([...Object.keys(counts), ...chosen.map(([code]) => code)]);
    return [...codes].sort().map((code) => {
      const values = (counts[code] ?? []).map((v) => ({
        value: v.value,
        count: v.count,
        selected: chosen.some(([c, value]) => c === code && value === v.value),
      }));
      for (const [c, value] of chosen) {
        if (c === code && !values.some((v) => v.value === value)) {
          values.push({ value, count: 0, selected: true });
        }
      }
      return { code, values };
    });
  });

  constructor() {
    effect(() => {
      // Everything that changes the answer: the route, the filters, the language, the currency.
      const request = {
        kind: this.kind(),
        slug: this.slug(),
        q: this.q(),
        attributes: this.attributes(),
        min: this.min(),
        max: this.max(),
        sort: this.currentSort(),
        inStock: this.inStockOnly(),
        locale: this.i18n.locale(),
        currency: this.catalog.requestCurrency(),
      };
      untracked(() => {
        this.limit.set(PAGE);
        void this.load(request.kind, false);
      });
    });
    effect(() => {
      const shop = this.customer.shop()?.name;
      this.title.setTitle(shop ? `${this.heading()} | ${shop}` : this.heading());
    });
  }

  protected label(code: string): string {
    const key = `attribute.${code}`;
    const text = this.i18n.t(key);
    return text === key ? code.charAt(0).toUpperCase() + code.slice(1).replaceAll('_', ' ') : text;
  }

  protected toggle(code: string, value: string): void {
    const chosen = this.selected();
    const next = chosen.some(([c, v]) => c === code && v === value)
      ? chosen.filter(([c, v]) => !(c === code && v === value))
      : [...chosen, [code, value] as [string, string]];
    this.navigate({ attributes: next.length ? next.map(([c, v]) => `${c}:${v}`).join(',') : null });
  }

  protected applyPrice(event: Event): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const value = (name: string) => {
      const raw = (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
      return raw === '' ? null : raw;
    };
    this.navigate({ min: value('min'), max: value('max') });
  }

  protected toggleInStock(event: Event): void {
    this.navigate({ in_stock: (event.target as HTMLInputElement).checked ? 'true' : null });
  }

  protected sortBy(event: Event): void {
    const sort = (event.target as HTMLSelectElement).value;
    this.navigate({ sort: sort === this.sorts()[0] ? null : sort });
  }

  protected clear(): void {
    this.navigate({ attributes: null, min: null, max: null, in_stock: null });
  }

  protected async loadMore(): Promise<void> {
    if (this.kind() === 'search') {
      this.limit.update((l) => Math.min(l + PAGE, MOST_HITS));
      await this.load('search', false);
    } else {
      await this.load(this.kind(), true);
    }
  }

  private navigate(params: Record<string, string | null>): void {
    void this.router.navigate([], { queryParams: params, queryParamsHandling: 'merge' });
  }

  /** Minor units of the shown currency from what the shopper typed in major units. */
  private minor(raw: string | undefined): number | undefined {
    if (!raw) {
      return undefined;
    }
    const value = Number(raw.replace(',', '.'));
    if (!Number.isFinite(value) || value < 0) {
      return undefined;
    }
    const currency = this.catalog.requestCurrency() ?? this.currencyShown() ?? 'EUR';
    return Math.round(value * 10 ** fractionDigits(currency));
  }

  private async load(kind: Kind, append: boolean): Promise<void> {
    const question = ++this.asked;
    this.loading.set(true);
    this.problem.set(null);
    const filters = {
      attributes: this.attributes() || undefined,
      min_price: this.minor(this.min()),
      max_price: this.minor(this.max()),
      currency: this.catalog.requestCurrency(),
      in_stock: this.inStockOnly() || undefined,
    };
    if (kind === 'search') {
      await this.loadSearch(question, filters);
    } else {
      await this.loadList(question, kind, filters, append);
    }
    if (question === this.asked) {
      this.loading.set(false);
    }
  }

  private async loadList(
    question: number,
    kind: 'category' | 'collection',
    filters: Record<string, string | number | boolean | undefined>,
    append: boolean,
  ): Promise<void> {
    const slug = this.slug() ?? '';
    const [about, page] = await Promise.all([
      append
        ? Promise.resolve(null)
        : kind === 'category'
          ? outcome(getStoreCategory({ path: { key: slug } }))
          : outcome(getStoreCollection({ path: { key: slug } })),
      outcome(
        listStoreProducts({
          query: {
            ...filters,
            [kind]: slug,
            sort: this.currentSort() as ListSort,
            limit: PAGE,
            cursor: append ? (this.cursor() ?? undefined) : undefined,
          },
        }),
      ),
    ]);
    if (question !== this.asked) {
      return;
    }
    if (about) {
      if (!about.ok) {
        this.missing.set(about.status === 404);
        this.heading.set(this.i18n.t('catalog.not-found-title'));
        this.trail.set([]);
        if (about.status !== 404) {
          this.problem.set(about.problem);
        }
        return;
      }
      this.missing.set(false);
      this.heading.set(about.data.name);
      this.description.set(about.data.description ?? null);
      this.trail.set('breadcrumbs' in about.data ? (about.data as StoreCategory).breadcrumbs : []);
    }
    if (!page.ok) {
      this.problem.set(page.problem);
      return;
    }
    this.items.set(append ? [...this.items(), ...page.data.items] : page.data.items);
    this.facets.set(page.data.facets);
    this.cursor.set(page.data.next_cursor ?? null);
    this.currencyShown.set(page.data.currency);
    this.didYouMean.set([]);
  }

  private async loadSearch(
    question: number,
    filters: Record<string, string | number | boolean | undefined>,
  ): Promise<void> {
    const q = (this.q() ?? '').trim();
    this.heading.set(q ? this.i18n.t('search.results-for', { q }) : this.i18n.t('search.title'));
    this.description.set(null);
    this.trail.set([]);
    this.missing.set(false);
    if (!q) {
      this.items.set([]);
      this.facets.set(null);
      this.didYouMean.set([]);
      return;
    }
    const result = await outcome(searchStoreProducts({ query: { ...filters, q, limit: this.limit() } }));
    if (question !== this.asked) {
      return;
    }
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.items.set(sortHits(result.data.items, this.currentSort()));
    this.facets.set(result.data.facets);
    this.currencyShown.set(result.data.currency);
    // Offered when the search found nothing: beside results they would mostly name what is shown.
    const found = result.data.items.length > 0;
    this.didYouMean.set(found ? [] : result.data.suggestions.filter((s) => s.toLowerCase() !== q.toLowerCase()));
  }
}

/** `colour:red,size:m` → [['colour', 'red'], ['size', 'm']]. */
export function parseAttributes(raw: string | undefined): [string, string][] {
  if (!raw) {
    return [];
  }
  return raw
    .split(',')
    .map((part) => part.split(':'))
    .filter((pair): pair is [string, string] => pair.length === 2 && pair[0] !== '' && pair[1] !== '');
}

/** Search answers best first; another order rearranges the hits found. */
export function sortHits(items: ProductSummary[], sort: string): ProductSummary[] {
  const price = (p: ProductSummary) => p.price_from?.amount ?? Number.MAX_SAFE_INTEGER;
  switch (sort) {
    case 'price':
      return [...items].sort((a, b) => price(a) - price(b));
    case '-price':
      return [...items].sort((a, b) => price(b) - price(a));
    case 'name':
      return [...items].sort((a, b) => a.name.localeCompare(b.name));
    default:
      return items;
  }
}
