import { ChangeDetectionStrategy, Component, OnDestroy, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  I18n,
  FieldError,
  ProblemAlert,
  createCollection,
  deleteCollection,
  fieldMessage,
  listCollections,
  listProducts,
  listStoreProducts,
  outcome,
  updateCollection,
  type Collection,
  type CollectionPreview,
  type Problem,
  type Product,
  type StoreProductPage,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CatalogShop, type Localized, filled, formatMoney, ifMatch, languageName, pick } from './catalog-support';
import { RulePreview } from './rule-preview';

type Mode = 'manual' | 'rule';

interface Draft {
  names: Localized;
  slug: string;
  mode: Mode;
  rule: string;
  products: { id: string; name: string }[];
}

const RULE_EXAMPLES = [
  'tag = summer and price < 50',
  'category = shirts or category = trousers',
  'attribute.colour = red',
];

/** Collections: hand-picked products in an order, or every product a rule matches. */
@Component({
  selector: 'admin-collections',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="row spread">
      <h1>{{ i18n.t('nav.collections') }}</h1>
      @if (canManage() && !draft()) {
        <button type="button" class="button" (click)="startNew()">{{ i18n.t('catalog.collections.new') }}</button>
      }
    </div>
    <agora-problem-alert [problem]="listProblem()" (reload)="load()" />
    @if (notice(); as message) {
      <p class="notice" role="status">{{ message }}</p>
    }
    @if (draft(); as d) {
      <section class="card" aria-labelledby="collection-form-title">
        <h2 id="collection-form-title">
          {{
            editing()
              ? i18n.t('catalog.collections.edit', { name: title(editing()!) })
              : i18n.t('catalog.collections.new')
          }}
        </h2>
        <agora-problem-alert [problem]="problem()" [placed]="placed()" (reload)="reloadEditing()" />
        <form (ngSubmit)="save()" novalidate aria-labelledby="collection-form-title">
          <fieldset [disabled]="!canManage()" class="plain">
            @for (l of shop.locales(); track l) {
              <div class="field">
                <label [for]="'collection-name-' + l">{{
                  i18n.t('catalog.name-in', { language: localeName(l) })
                }}</label>
                <input
                  [id]="'collection-name-' + l"
                  [name]="'name-' + l"
                  [(ngModel)]="d.names[l]"
                  [attr.aria-invalid]="!!error('name.' + l)"
                  [attr.aria-describedby]="error('name.' + l) ? 'collection-name-' + l + '-error' : null"
                />
                <agora-field-error [problem]="problem()" [field]="'name.' + l" [for]="'collection-name-' + l" />
                @if (l === shop.defaultLocale()) {
                  <agora-field-error [problem]="problem()" field="name" for="collection-name" />
                }
              </div>
            }
            <div class="field">
              <label for="collection-slug">{{ i18n.t('catalog.slug-optional') }}</label>
              <input
                id="collection-slug"
                name="slug"
                [(ngModel)]="d.slug"
                [attr.aria-invalid]="!!error('slug')"
                [attr.aria-describedby]="error('slug') ? 'collection-slug-error' : null"
              />
              <agora-field-error [problem]="problem()" field="slug" for="collection-slug" />
            </div>
            <fieldset class="checks">
              <legend>{{ i18n.t('nav.products') }}</legend>
              <label
                ><input
                  type="radio"
                  name="mode"
                  value="manual"
                  [(ngModel)]="d.mode"
                  (ngModelChange)="modeChanged(d, $event)"
                />
                {{ i18n.t('catalog.collections.manual') }}</label
              >
              <label
                ><input
                  type="radio"
                  name="mode"
                  value="rule"
                  [(ngModel)]="d.mode"
                  (ngModelChange)="modeChanged(d, $event)"
                />
                {{ i18n.t('catalog.collections.by-rule') }}</label
              >
            </fieldset>
            @if (d.mode === 'rule') {
              <div class="field">
                <label for="collection-rule">{{ i18n.t('catalog.collections.rule') }}</label>
                <p class="hint" id="collection-rule-hint">
                  {{ i18n.t('catalog.collections.rule-hint', { currency: shop.defaultCurrency() }) }}
                  @for (example of examples; track example; let last = $last) {
                    <code>{{ example }}</code>{{ last ? '.' : ';' }}
                  }
                </p>
                <input
                  id="collection-rule"
                  name="rule"
                  class="code"
                  [(ngModel)]="d.rule"
                  (ngModelChange)="ruleChanged($event)"
                  [attr.aria-invalid]="!!ruleError()"
                  [attr.aria-describedby]="
                    ruleError() ? 'collection-rule-hint collection-rule-error' : 'collection-rule-hint'
                  "
                />
                <!-- The save's complaint about the rule, else the live preview's: one message, one id. -->
                @if (ruleError(); as message) {
                  <p class="field-error" id="collection-rule-error">{{ message }}</p>
                }
              </div>
              <section class="rule-matches" aria-labelledby="rule-matches-title">
                <h3 id="rule-matches-title">{{ i18n.t('catalog.collections.matches-title') }}</h3>
                <p class="hint">{{ i18n.t('catalog.collections.matches-hint') }}</p>
                <!-- Only the count is live: the list below would be too much to hear at each pause. -->
                <p id="rule-matches-count" class="rule-matches-count" aria-live="polite">{{ matchCount() }}</p>
                @switch (rulePreview.matches().state) {
                  @case ('checking') {
                    <p class="hint">{{ i18n.t('catalog.collections.matches-checking') }}</p>
                  }
                  @case ('failed') {
                    <p class="hint">{{ matchFailure() }}</p>
                  }
                }
                @if (shownMatches(); as shown) {
                  @if (shown.items.length) {
                    <ul class="plain-list">
                      @for (item of shown.items; track item.id) {
                        <li>
                          <a [routerLink]="['/products', item.id]">{{ item.name }}</a>&ngsp;
                          <span [class]="'badge status-' + item.status">{{
                            i18n.t('catalog.status.' + item.status)
                          }}</span>
                        </li>
                      }
                    </ul>
                    @if (shown.total > shown.items.length) {
                      <p class="hint">
                        {{ i18n.t('catalog.collections.matches-more', { count: shown.total - shown.items.length }) }}
                      </p>
                    }
                  }
                }
              </section>
            } @else {
              <ol class="picked">
                @for (p of d.products; track p.id; let i = $index; let first = $first; let last = $last) {
                  <li class="row">
                    <span class="grow">{{ p.name }}</span>
                    <button
                      type="button"
                      class="link-button"
                      [disabled]="first"
                      (click)="shift(d, i, -1)"
                      [attr.aria-label]="i18n.t('catalog.categories.move-up', { name: p.name })"
                    >
                      {{ i18n.t('catalog.categories.up') }}
                    </button>
                    <button
                      type="button"
                      class="link-button"
                      [disabled]="last"
                      (click)="shift(d, i, 1)"
                      [attr.aria-label]="i18n.t('catalog.categories.move-down', { name: p.name })"
                    >
                      {{ i18n.t('catalog.categories.down') }}
                    </button>
                    <button
                      type="button"
                      class="link-button"
                      (click)="d.products.splice(i, 1)"
                      [attr.aria-label]="i18n.t('catalog.remove-named', { name: p.name })"
                    >
                      {{ i18n.t('catalog.remove') }}
                    </button>
                  </li>
                } @empty {
                  <li>{{ i18n.t('catalog.collections.none-picked') }}</li>
                }
              </ol>
              <agora-field-error [problem]="problem()" field="product_ids" for="collection-products" />
              <div class="field">
                <label for="collection-find">{{ i18n.t('catalog.collections.find-label') }}</label>
                <div class="row">
                  <input
                    id="collection-find"
                    name="find"
                    type="search"
                    [(ngModel)]="query"
                    (keydown.enter)="$event.preventDefault(); find()"
                  />
                  <button type="button" class="button secondary" (click)="find()">
                    {{ i18n.t('catalog.collections.find') }}
                  </button>
                </div>
              </div>
              @if (found().length) {
                <ul class="plain-list found">
                  @for (p of found(); track p.id) {
                    <li class="row">
                      <span class="grow">{{ productName(p) }}</span>
                      <button
                        type="button"
                        class="link-button"
                        [disabled]="isPicked(d, p.id)"
                        (click)="pickProduct(d, p)"
                        [attr.aria-label]="i18n.t('catalog.collections.add-named', { name: productName(p) })"
                      >
                        {{ i18n.t(isPicked(d, p.id) ? 'catalog.collections.added' : 'catalog.collections.add') }}
                      </button>
                    </li>
                  }
                </ul>
              }
            }
          </fieldset>
          @if (canManage()) {
            <div class="row">
              <button class="button" type="submit" [disabled]="busy()">
                {{ i18n.t(editing() ? 'catalog.collections.save' : 'catalog.collections.create') }}
              </button>
              <button class="button secondary" type="button" (click)="close()">
                {{ i18n.t('catalog.collections.close') }}
              </button>
            </div>
          }
        </form>
        @if (editing(); as c) {
          <section class="preview" aria-labelledby="preview-title" aria-live="polite">
            <h3 id="preview-title">{{ i18n.t('catalog.collections.preview') }}</h3>
            <p class="hint">{{ i18n.t('catalog.collections.preview-hint') }}</p>
            @if (preview(); as page) {
              <ul class="plain-list">
                @for (item of page.items; track item.id) {
                  <li>
                    <a [routerLink]="['/products', item.id]">{{ item.name }}</a>
                    @if (item.price_from; as price) {
                      · {{ money(price.amount, price.currency) }}
                    }
                  </li>
                } @empty {
                  <li>{{ i18n.t('catalog.collections.preview-none') }}</li>
                }
              </ul>
              @if (page.more) {
                <p class="hint">{{ i18n.t('catalog.collections.more') }}</p>
              }
            } @else {
              <p>{{ i18n.t('catalog.products.loading') }}</p>
            }
          </section>
        }
      </section>
    }
    <table>
      <caption class="visually-hidden">
        Collections
      </caption>
      <thead>
        <tr>
          <th scope="col">{{ i18n.t('catalog.collections.collection') }}</th>
          <th scope="col">{{ i18n.t('nav.products') }}</th>
          <th scope="col">{{ i18n.t('catalog.actions') }}</th>
        </tr>
      </thead>
      <tbody>
        @for (c of collections(); track c.id) {
          <tr>
            <td>
              {{ title(c) }} <span class="tree-slug">/{{ c.slug }}</span>
            </td>
            <td>
              @if (c.rule) {
                {{ i18n.t('catalog.collections.rule') }}: <code>{{ c.rule }}</code>
              } @else {
                {{ i18n.t('catalog.collections.picked', { count: c.product_ids.length }) }}
              }
            </td>
            <td class="row">
              <button
                type="button"
                class="button secondary"
                (click)="edit(c)"
                [attr.aria-label]="i18n.t('catalog.collections.open-named', { name: title(c) })"
              >
                {{ i18n.t('catalog.collections.open') }}
              </button>
              @if (canManage()) {
                <button
                  type="button"
                  class="button danger"
                  (click)="remove(c)"
                  [attr.aria-label]="i18n.t('catalog.delete-named', { name: title(c) })"
                >
                  {{ i18n.t('catalog.delete') }}
                </button>
              }
            </td>
          </tr>
        } @empty {
          <tr>
            <td colspan="3">{{ i18n.t('catalog.collections.none') }}</td>
          </tr>
        }
      </tbody>
    </table>`,
})
export class CollectionsPage implements OnInit, OnDestroy {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('catalog.manage'));
  protected readonly collections = signal<Collection[]>([]);
  protected readonly editing = signal<Collection | null>(null);
  protected readonly draft = signal<Draft | null>(null);
  protected readonly found = signal<Product[]>([]);
  protected readonly preview = signal<{ items: StoreProductPage['items']; more: boolean } | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly placed = computed(() =>
    (this.problem()?.errors ?? []).map((e) => e.field).filter((f) => /^(name(\..+)?|slug|rule|product_ids)$/.test(f)),
  );
  protected readonly notice = signal<string | null>(null);
  protected readonly busy = signal(false);
  /** What the rule being typed matches, tried before it is saved. */
  protected readonly rulePreview = new RulePreview();
  protected readonly ruleError = computed(() => {
    const live = this.rulePreview.matches();
    return fieldMessage(this.problem(), 'rule') ?? (live.state === 'invalid' ? live.message : null);
  });
  /** The answer on screen: the latest, or while a newer rule is tried, the one before it. */
  protected readonly shownMatches = computed<CollectionPreview | null>(() => {
    const live = this.rulePreview.matches();
    return live.state === 'matched' ? live.preview : live.state === 'checking' ? live.last : null;
  });
  /**
   * The sentence screen readers hear. It changes only when an answer comes (not while a rule
   * is being tried), so each pause in typing is announced once, and an unchanged count not again.
   */
  protected readonly matchCount = computed(() => {
    const live = this.rulePreview.matches();
    const shown = live.state === 'invalid' || live.state === 'failed' ? null : this.shownMatches();
    if (!shown) return '';
    if (shown.total === 0) return this.i18n.t('catalog.collections.matches-none');
    if (shown.total === 1) return this.i18n.t('catalog.collections.matches-one');
    return this.i18n.t('catalog.collections.matches-many', { count: shown.total });
  });
  protected readonly matchFailure = computed(() => {
    const live = this.rulePreview.matches();
    return live.state === 'failed'
      ? this.i18n.t('catalog.collections.matches-failed', { reason: live.problem.title })
      : '';
  });
  protected readonly examples = RULE_EXAMPLES;
  /** The language's name in the member's language ("Deutsch" in the German admin). */
  protected localeName(code: string): string {
    return languageName(this.i18n, code);
  }
  protected query = '';

  async ngOnInit(): Promise<void> {
    await this.shop.ensureLoaded();
    await this.load();
  }

  ngOnDestroy(): void {
    this.rulePreview.stop();
  }

  async load(): Promise<void> {
    const result = await outcome(listCollections());
    if (result.ok) {
      this.collections.set(result.data);
      this.listProblem.set(null);
    } else {
      this.listProblem.set(result.problem);
    }
  }

  protected title(c: Collection): string {
    return pick(c.name, this.shop.defaultLocale(), 'en') || c.slug;
  }

  protected productName(p: Product): string {
    return pick(p.name, this.shop.defaultLocale(), 'en') || p.id;
  }

  protected money(amount: number, currency: string): string {
    return formatMoney(amount, currency);
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected startNew(): void {
    this.editing.set(null);
    this.problem.set(null);
    this.notice.set(null);
    this.found.set([]);
    this.rulePreview.stop();
    this.draft.set({ names: {}, slug: '', mode: 'manual', rule: '', products: [] });
    setTimeout(() => document.getElementById(`collection-name-${this.shop.defaultLocale()}`)?.focus());
  }

  protected async edit(c: Collection): Promise<void> {
    this.problem.set(null);
    this.notice.set(null);
    this.found.set([]);
    // The picked products' names, from the admin list (it shows drafts too).
    const names = new Map<string, string>();
    if (c.product_ids.length) {
      let cursor: string | undefined;
      do {
        const page = await outcome(listProducts({ query: { limit: 100, cursor } }));
        if (!page.ok) break;
        for (const p of page.data.items) names.set(p.id, this.productName(p));
        cursor = page.data.next_cursor ?? undefined;
      } while (cursor && c.product_ids.some((id) => !names.has(id)));
    }
    this.editing.set(c);
    this.draft.set({
      names: { ...c.name },
      slug: c.slug,
      mode: c.rule ? 'rule' : 'manual',
      rule: c.rule ?? '',
      products: c.product_ids.map((id) => ({ id, name: names.get(id) ?? id })),
    });
    this.rulePreview.stop();
    this.rulePreview.typed(c.rule ?? '');
    await this.loadPreview(c);
  }

  protected async reloadEditing(): Promise<void> {
    await this.load();
    const current = this.collections().find((c) => c.id === this.editing()?.id);
    if (current) await this.edit(current);
  }

  protected close(): void {
    this.rulePreview.stop();
    this.draft.set(null);
    this.editing.set(null);
    this.preview.set(null);
  }

  protected modeChanged(d: Draft, mode: Mode): void {
    this.rulePreview.typed(mode === 'rule' ? d.rule : '');
  }

  protected ruleChanged(rule: string): void {
    // The save's complaint was about the rule as it was; the live preview speaks for the new one.
    const problem = this.problem();
    if (problem && fieldMessage(problem, 'rule')) {
      const errors = (problem.errors ?? []).filter((e) => e.field !== 'rule');
      this.problem.set(errors.length ? { ...problem, errors } : null);
    }
    this.rulePreview.typed(rule);
  }

  protected shift(d: Draft, i: number, step: number): void {
    const to = i + step;
    [d.products[i], d.products[to]] = [d.products[to], d.products[i]];
  }

  protected isPicked(d: Draft, id: string): boolean {
    return d.products.some((p) => p.id === id);
  }

  protected pickProduct(d: Draft, p: Product): void {
    d.products.push({ id: p.id, name: this.productName(p) });
  }

  protected async find(): Promise<void> {
    const result = await outcome(
      listProducts({ query: { name: this.query.trim() || undefined, limit: 10, sort: 'name' } }),
    );
    if (result.ok) this.found.set(result.data.items);
  }

  protected async save(): Promise<void> {
    const d = this.draft();
    if (!d) return;
    this.busy.set(true);
    const body = {
      name: filled(d.names),
      slug: d.slug.trim() || null,
      rule: d.mode === 'rule' ? d.rule.trim() : null,
      product_ids: d.mode === 'rule' ? [] : d.products.map((p) => p.id),
    };
    const editing = this.editing();
    const result = editing
      ? await outcome(
          updateCollection({ path: { collection_id: editing.id }, headers: ifMatch(editing.version), body }),
        )
      : await outcome(createCollection({ body }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    d.slug = result.data.slug;
    this.notice.set(this.i18n.t('catalog.collections.saved', { name: this.title(result.data) }));
    this.editing.set(result.data);
    await this.load();
    await this.loadPreview(result.data);
  }

  private async loadPreview(c: Collection): Promise<void> {
    this.preview.set(null);
    const result = await outcome(
      listStoreProducts({ query: { collection: c.id, limit: 20, currency: this.shop.defaultCurrency() || undefined } }),
    );
    this.preview.set(
      result.ok ? { items: result.data.items, more: !!result.data.next_cursor } : { items: [], more: false },
    );
  }

  protected async remove(c: Collection): Promise<void> {
    if (!confirm(this.i18n.t('catalog.collections.confirm-delete', { name: this.title(c) }))) return;
    const result = await outcome(deleteCollection({ path: { collection_id: c.id }, headers: ifMatch(c.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    if (this.editing()?.id === c.id) this.close();
    this.notice.set(this.i18n.t('catalog.deleted', { name: this.title(c) }));
    await this.load();
  }
}
