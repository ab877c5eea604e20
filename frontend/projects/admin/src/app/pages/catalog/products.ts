import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  ProblemAlert,
  listCategories,
  listProducts,
  outcome,
  type Category,
  type ListProductsData,
  type Problem,
  type Product,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CatalogShop, STATUS_LABELS, pick, priceRange } from './catalog-support';

type Query = NonNullable<ListProductsData['query']>;
const PAGE_SIZE = 25;

/** The catalog as a merchant works through it: find products, see their state, pick some. */
@Component({
  selector: 'admin-products',
  imports: [FormsModule, RouterLink, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="row spread">
      <h1>Products</h1>
      @if (canManage()) {
        <a class="button" routerLink="/products/new">New product</a>
      }
    </div>
    <form class="product-filters" role="search" aria-label="Filter products" (ngSubmit)="search()">
      <div class="field">
        <label for="product-search">Name</label>
        <input id="product-search" name="name" type="search" [(ngModel)]="name" />
      </div>
      <div class="field">
        <label for="product-status">Status</label>
        <select id="product-status" name="status" [(ngModel)]="status" (ngModelChange)="search()">
          <option value="">Any</option>
          <option value="draft">Draft</option>
          <option value="active">Active</option>
          <option value="archived">Archived</option>
        </select>
      </div>
      <div class="field">
        <label for="product-category">Category</label>
        <select id="product-category" name="category" [(ngModel)]="category" (ngModelChange)="search()">
          <option value="">Any</option>
          @for (c of categoryChoices(); track c.id) {
            <option [value]="c.id">{{ c.label }}</option>
          }
        </select>
      </div>
      <div class="field">
        <label for="product-tag">Tag</label>
        <input id="product-tag" name="tag" [(ngModel)]="tag" />
      </div>
      <div class="field">
        <label for="product-sort">Sort by</label>
        <select id="product-sort" name="sort" [(ngModel)]="sort" (ngModelChange)="search()">
          <option value="-modified_at">Recently changed</option>
          <option value="-created_at">Newest</option>
          <option value="created_at">Oldest</option>
          <option value="name">Name A–Z</option>
          <option value="-name">Name Z–A</option>
        </select>
      </div>
      <div class="field filter-submit">
        <button class="button" type="submit">Search</button>
      </div>
    </form>
    <agora-problem-alert [problem]="problem()" />

    @if (selected().size) {
      <section class="card bulk" aria-labelledby="bulk-title">
        <h2 id="bulk-title">{{ selected().size }} selected</h2>
        <button type="button" class="button secondary" (click)="clearSelection()">Clear selection</button>
      </section>
    }

    <div class="table-scroll">
      <table class="products">
        <caption class="visually-hidden">
          Products
        </caption>
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select every product on this page"
                [checked]="allSelected()"
                (change)="toggleAll()"
              />
            </th>
            <th scope="col">Product</th>
            <th scope="col">Status</th>
            <th scope="col">Price ({{ shop.defaultCurrency() }})</th>
            <th scope="col">Variants</th>
          </tr>
        </thead>
        <tbody>
          @for (p of products(); track p.id) {
            <tr>
              <td>
                <input
                  type="checkbox"
                  [attr.aria-label]="'Select ' + title(p)"
                  [checked]="selected().has(p.id)"
                  (change)="toggle(p.id)"
                />
              </td>
              <td>
                <a [routerLink]="['/products', p.id]">{{ title(p) }}</a>
                @if (p.tags.length) {
                  <span class="tags">{{ p.tags.join(', ') }}</span>
                }
              </td>
              <td>
                <span [class]="'badge status-' + p.status">{{ statusLabel(p.status) }}</span>
              </td>
              <td>{{ price(p) }}</td>
              <td>{{ p.variants.length }}</td>
            </tr>
          } @empty {
            <tr>
              <td colspan="5">{{ loading() ? 'Loading…' : 'No products match.' }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <nav class="row pager" aria-label="Pages of products">
      <button type="button" class="button secondary" [disabled]="!previous().length" (click)="back()">
        Previous page
      </button>
      <button type="button" class="button secondary" [disabled]="!next()" (click)="forward()">Next page</button>
    </nav>`,
})
export class ProductsPage implements OnInit {
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('catalog.manage'));
  protected readonly products = signal<Product[]>([]);
  protected readonly categories = signal<Category[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly loading = signal(true);
  protected readonly name = signal('');
  protected readonly status = signal('');
  protected readonly category = signal('');
  protected readonly tag = signal('');
  protected readonly sort = signal<NonNullable<Query['sort']>>('-modified_at');
  /** The cursor of this page and of the pages before it, for "previous". */
  private readonly cursor = signal<string | undefined>(undefined);
  protected readonly previous = signal<(string | undefined)[]>([]);
  protected readonly next = signal<string | null>(null);
  readonly selected = signal<ReadonlySet<string>>(new Set());
  protected readonly allSelected = computed(
    () => this.products().length > 0 && this.products().every((p) => this.selected().has(p.id)),
  );
  protected readonly categoryChoices = computed(() =>
    this.categories().map((c) => ({
      id: c.id,
      label: [...c.breadcrumbs.map((b) => b.name), pick(c.name, this.shop.defaultLocale(), 'en')].join(' › '),
    })),
  );

  async ngOnInit(): Promise<void> {
    await this.shop.ensureLoaded();
    const categories = await outcome(listCategories());
    if (categories.ok) this.categories.set(categories.data);
    await this.load();
  }

  protected title(p: Product): string {
    return pick(p.name, this.shop.defaultLocale(), 'en') || '(no name)';
  }

  protected statusLabel(status: Product['status']): string {
    return STATUS_LABELS[status];
  }

  protected price(p: Product): string {
    return priceRange(p, this.shop.defaultCurrency());
  }

  protected async search(): Promise<void> {
    this.cursor.set(undefined);
    this.previous.set([]);
    await this.load();
  }

  protected async forward(): Promise<void> {
    const next = this.next();
    if (!next) return;
    this.previous.update((all) => [...all, this.cursor()]);
    this.cursor.set(next);
    await this.load();
  }

  protected async back(): Promise<void> {
    const all = this.previous();
    if (!all.length) return;
    this.cursor.set(all[all.length - 1]);
    this.previous.set(all.slice(0, -1));
    await this.load();
  }

  protected toggle(id: string): void {
    this.selected.update((ids) => {
      const copy = new Set(ids);
      if (!copy.delete(id)) copy.add(id);
      return copy;
    });
  }

  protected toggleAll(): void {
    const all = this.allSelected();
    this.selected.update((ids) => {
      const copy = new Set(ids);
      for (const p of this.products()) {
        if (all) copy.delete(p.id);
        else copy.add(p.id);
      }
      return copy;
    });
  }

  clearSelection(): void {
    this.selected.set(new Set());
  }

  /** The filters as the list API takes them (the bulk actions select by them too). */
  filters(): Query {
    const query: Query = { sort: this.sort() };
    if (this.name().trim()) query.name = this.name().trim();
    if (this.status()) query.status = this.status() as Query['status'];
    if (this.category()) query.category_id = this.category();
    if (this.tag().trim()) query.tag = this.tag().trim().toLowerCase();
    return query;
  }

  async load(): Promise<void> {
    this.loading.set(true);
    const result = await outcome(
      listProducts({ query: { ...this.filters(), limit: PAGE_SIZE, cursor: this.cursor() } }),
    );
    this.loading.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.products.set(result.data.items);
    this.next.set(result.data.next_cursor ?? null);
  }
}
