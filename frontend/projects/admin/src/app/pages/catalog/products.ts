import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  I18n,
  ProblemAlert,
  listCategories,
  listProducts,
  outcome,
  type Category,
  type TaskDetail,
  type ListProductsData,
  type Problem,
  type Product,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { BulkActions } from './bulk-actions';
import { CatalogShop, pick, priceRange } from './catalog-support';
import { TaskProgress } from './task-progress';

type Query = NonNullable<ListProductsData['query']>;
const PAGE_SIZE = 25;

/** The catalog as a merchant works through it: find products, see their state, pick some. */
@Component({
  selector: 'admin-products',
  imports: [FormsModule, RouterLink, ProblemAlert, BulkActions, TaskProgress],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="row spread">
      <h1>{{ i18n.t('catalog.products.title') }}</h1>
      @if (canManage()) {
        <div class="row">
          <a class="button secondary" routerLink="/products/import-export">{{
            i18n.t('catalog.products.import-export')
          }}</a>
          <a class="button" routerLink="/products/new">{{ i18n.t('catalog.products.new') }}</a>
        </div>
      }
    </div>
    <form
      class="product-filters"
      role="search"
      [attr.aria-label]="i18n.t('catalog.products.filter')"
      (ngSubmit)="search()"
    >
      <div class="field">
        <label for="product-search">{{ i18n.t('catalog.products.name') }}</label>
        <input id="product-search" name="name" type="search" [(ngModel)]="name" />
      </div>
      <div class="field">
        <label for="product-status">{{ i18n.t('catalog.products.status') }}</label>
        <select id="product-status" name="status" [(ngModel)]="status" (ngModelChange)="search()">
          <option value="">{{ i18n.t('catalog.products.any') }}</option>
          <option value="draft">{{ i18n.t('catalog.status.draft') }}</option>
          <option value="active">{{ i18n.t('catalog.status.active') }}</option>
          <option value="archived">{{ i18n.t('catalog.status.archived') }}</option>
        </select>
      </div>
      <div class="field">
        <label for="product-category">{{ i18n.t('catalog.products.category') }}</label>
        <select id="product-category" name="category" [(ngModel)]="category" (ngModelChange)="search()">
          <option value="">{{ i18n.t('catalog.products.any') }}</option>
          @for (c of categoryChoices(); track c.id) {
            <option [value]="c.id">{{ c.label }}</option>
          }
        </select>
      </div>
      <div class="field">
        <label for="product-tag">{{ i18n.t('catalog.products.tag') }}</label>
        <input id="product-tag" name="tag" [(ngModel)]="tag" />
      </div>
      <div class="field">
        <label for="product-sort">{{ i18n.t('catalog.products.sort') }}</label>
        <select id="product-sort" name="sort" [(ngModel)]="sort" (ngModelChange)="search()">
          <option value="-modified_at">{{ i18n.t('catalog.products.sort.recent') }}</option>
          <option value="-created_at">{{ i18n.t('catalog.products.sort.newest') }}</option>
          <option value="created_at">{{ i18n.t('catalog.products.sort.oldest') }}</option>
          <option value="name">{{ i18n.t('catalog.products.sort.name') }}</option>
          <option value="-name">{{ i18n.t('catalog.products.sort.name-desc') }}</option>
        </select>
      </div>
      <div class="field filter-submit">
        <button class="button" type="submit">{{ i18n.t('catalog.products.search') }}</button>
      </div>
    </form>
    <agora-problem-alert [problem]="problem()" />

    @if (selected().size) {
      <section class="card bulk" aria-labelledby="bulk-title">
        <h2 id="bulk-title">{{ i18n.t('catalog.products.selected', { count: selected().size }) }}</h2>
        <button type="button" class="button secondary" (click)="clearSelection()">
          {{ i18n.t('catalog.products.clear-selection') }}
        </button>
        @if (canManage()) {
          <admin-bulk-actions
            [ids]="selectedIds()"
            [filter]="bulkFilter()"
            [categories]="categoryChoices()"
            (started)="bulkTask.set($event)"
          />
        }
      </section>
    }
    @if (bulkTask(); as id) {
      <admin-task-progress [taskId]="id" [title]="i18n.t('catalog.bulk.task')" (done)="bulkDone($event)" />
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
                [attr.aria-label]="i18n.t('catalog.products.select-page')"
                [checked]="allSelected()"
                (change)="toggleAll()"
              />
            </th>
            <th scope="col">{{ i18n.t('catalog.products.product') }}</th>
            <th scope="col">{{ i18n.t('catalog.products.status') }}</th>
            <th scope="col">{{ i18n.t('catalog.products.price', { currency: shop.defaultCurrency() }) }}</th>
            <th scope="col">{{ i18n.t('catalog.products.variants') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (p of products(); track p.id) {
            <tr>
              <td>
                <input
                  type="checkbox"
                  [attr.aria-label]="i18n.t('catalog.products.select', { name: title(p) })"
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
              <td colspan="5">{{ i18n.t(loading() ? 'catalog.products.loading' : 'catalog.products.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <nav class="row pager" [attr.aria-label]="i18n.t('catalog.products.pages')">
      <button type="button" class="button secondary" [disabled]="!previous().length" (click)="back()">
        {{ i18n.t('catalog.products.previous') }}
      </button>
      <button type="button" class="button secondary" [disabled]="!next()" (click)="forward()">
        {{ i18n.t('catalog.products.next') }}
      </button>
    </nav>`,
})
export class ProductsPage implements OnInit {
  protected readonly shop = inject(CatalogShop);
  protected readonly i18n = inject(I18n);
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
  protected readonly selectedIds = computed(() => [...this.selected()]);
  /** The bulk change running or last run from this page. */
  protected readonly bulkTask = signal<string | null>(null);
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
    return pick(p.name, this.shop.defaultLocale(), 'en') || this.i18n.t('catalog.products.no-name');
  }

  protected statusLabel(status: Product['status']): string {
    return this.i18n.t(`catalog.status.${status}`);
  }

  protected price(p: Product): string {
    return priceRange(p, this.shop.defaultCurrency(), this.i18n.locale());
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

  /** The list's filters as a bulk change selects by them (sorting means nothing there). */
  protected readonly bulkFilter = computed(() => {
    const filter: Omit<Query, 'sort' | 'limit' | 'cursor'> = { ...this.filters() };
    delete (filter as Query).sort;
    return filter;
  });

  /** A finished bulk change altered products on this page: show them as they are now. */
  protected async bulkDone(detail: TaskDetail): Promise<void> {
    if (detail.task.status === 'succeeded') this.clearSelection();
    await this.load();
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
