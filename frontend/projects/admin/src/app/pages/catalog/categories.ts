import { NgTemplateOutlet } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  createCategory,
  deleteCategory,
  fieldMessage,
  listCategories,
  outcome,
  updateCategory,
  type Category,
  type Problem,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CatalogShop, type Localized, filled, ifMatch, languageName, pick } from './catalog-support';

interface Node {
  category: Category;
  children: Node[];
}

/** Builds the tree from the API's list (parents before children, siblings in order). */
export function treeOf(categories: readonly Category[]): Node[] {
  const nodes = new Map(categories.map((c) => [c.id, { category: c, children: [] as Node[] }]));
  const roots: Node[] = [];
  for (const c of categories) {
    const node = nodes.get(c.id) as Node;
    const parent = c.parent_id ? nodes.get(c.parent_id) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const order = (list: Node[]) => {
    list.sort((a, b) => a.category.position - b.category.position);
    list.forEach((n) => order(n.children));
  };
  order(roots);
  return roots;
}

/** The category tree: add, rename, move (drag or "Move to…"), reorder, delete. */
@Component({
  selector: 'admin-categories',
  imports: [FormsModule, NgTemplateOutlet, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('nav.categories') }}</h1>
    <p class="hint">
      {{ i18n.t('catalog.categories.hint') }}
    </p>
    <agora-problem-alert [problem]="treeProblem()" (reload)="load()" />
    @if (moved(); as message) {
      <p class="notice" role="status">{{ message }}</p>
    }
    <ng-template #branch let-nodes let-depth="depth">
      <ul class="tree">
        @for (node of nodes; track node.category.id; let first = $first; let last = $last) {
          @let c = node.category;
          <li
            class="tree-item"
            [class.drop-target]="dropTarget() === c.id"
            [attr.draggable]="canManage() ? 'true' : null"
            (dragstart)="dragStart($event, c.id)"
            (dragover)="dragOver($event, c.id)"
            (dragleave)="dropTarget.set(null)"
            (drop)="drop($event, c.id)"
            (dragend)="dragging.set(null)"
          >
            <div class="tree-row">
              @if (renaming() === c.id) {
                <form
                  class="rename"
                  (ngSubmit)="rename(c)"
                  [attr.aria-label]="i18n.t('catalog.categories.rename-named', { name: label(c) })"
                >
                  @for (l of shop.locales(); track l) {
                    <div class="field">
                      <label [for]="'rename-' + c.id + '-' + l">{{
                        i18n.t('catalog.name-in', { language: localeName(l) })
                      }}</label>
                      <input [id]="'rename-' + c.id + '-' + l" [name]="l" [(ngModel)]="draft[l]" />
                    </div>
                  }
                  <div class="row">
                    <button class="button" type="submit">{{ i18n.t('catalog.categories.save-name') }}</button>
                    <button class="button secondary" type="button" (click)="renaming.set(null)">
                      {{ i18n.t('catalog.task.cancel') }}
                    </button>
                  </div>
                </form>
              } @else {
                <span class="tree-name">{{ label(c) }}</span>
                <span class="tree-slug">/{{ c.slug }}</span>
                @if (canManage()) {
                  <span class="row tree-actions">
                    <button
                      type="button"
                      class="link-button"
                      [disabled]="first"
                      (click)="reorder(node, -1)"
                      [id]="'up-' + c.id"
                      [attr.aria-label]="i18n.t('catalog.categories.move-up', { name: label(c) })"
                    >
                      {{ i18n.t('catalog.categories.up') }}
                    </button>
                    <button
                      type="button"
                      class="link-button"
                      [disabled]="last"
                      (click)="reorder(node, 1)"
                      [id]="'down-' + c.id"
                      [attr.aria-label]="i18n.t('catalog.categories.move-down', { name: label(c) })"
                    >
                      {{ i18n.t('catalog.categories.down') }}
                    </button>
                    <label class="visually-hidden" [for]="'move-' + c.id">{{
                      i18n.t('catalog.categories.move-named', { name: label(c) })
                    }}</label>
                    <select [id]="'move-' + c.id" class="move-to" (change)="moveFromMenu($event, c)">
                      <option value="" selected>{{ i18n.t('catalog.categories.move-to') }}</option>
                      <option value="top">{{ i18n.t('catalog.categories.top') }}</option>
                      @for (choice of choices(); track choice.id) {
                        @if (choice.id !== c.id && choice.id !== c.parent_id) {
                          <option [value]="choice.id">{{ choice.label }}</option>
                        }
                      }
                    </select>
                    <button
                      type="button"
                      class="link-button"
                      (click)="startRename(c)"
                      [attr.aria-label]="i18n.t('catalog.categories.rename-named', { name: label(c) })"
                    >
                      {{ i18n.t('catalog.categories.rename') }}
                    </button>
                    <button
                      type="button"
                      class="link-button danger-text"
                      (click)="remove(c)"
                      [attr.aria-label]="i18n.t('catalog.delete-named', { name: label(c) })"
                    >
                      {{ i18n.t('catalog.delete') }}
                    </button>
                  </span>
                }
              }
            </div>
            @if (node.children.length) {
              <ng-container *ngTemplateOutlet="branch; context: { $implicit: node.children, depth: depth + 1 }" />
            }
          </li>
        }
      </ul>
    </ng-template>
    <section [attr.aria-label]="i18n.t('catalog.categories.tree')" class="card">
      @if (tree().length) {
        <ng-container *ngTemplateOutlet="branch; context: { $implicit: tree(), depth: 0 }" />
      } @else {
        <p>{{ i18n.t('catalog.categories.none') }}</p>
      }
      @if (canManage() && dragging()) {
        <p
          class="drop-top"
          [class.drop-target]="dropTarget() === 'top'"
          (dragover)="dragOver($event, 'top')"
          (dragleave)="dropTarget.set(null)"
          (drop)="drop($event, null)"
        >
          {{ i18n.t('catalog.categories.drop-top') }}
        </p>
      }
    </section>

    @if (canManage()) {
      <h2 id="new-category-title">{{ i18n.t('catalog.categories.add-title') }}</h2>
      <agora-problem-alert [problem]="problem()" [placed]="placed()" />
      <form (ngSubmit)="create()" novalidate aria-labelledby="new-category-title">
        @for (l of shop.locales(); track l) {
          <div class="field">
            <label [for]="'category-name-' + l">{{ i18n.t('catalog.name-in', { language: localeName(l) }) }}</label>
            <input
              [id]="'category-name-' + l"
              [name]="'name-' + l"
              [(ngModel)]="names[l]"
              [attr.aria-invalid]="!!error('name.' + l) || (l === shop.defaultLocale() && !!error('name'))"
              [attr.aria-describedby]="
                error('name.' + l)
                  ? 'category-name-' + l + '-error'
                  : l === shop.defaultLocale() && error('name')
                    ? 'category-name-error'
                    : null
              "
            />
            <agora-field-error [problem]="problem()" [field]="'name.' + l" [for]="'category-name-' + l" />
            @if (l === shop.defaultLocale()) {
              <agora-field-error [problem]="problem()" field="name" for="category-name" />
            }
          </div>
        }
        <div class="field">
          <label for="category-parent">{{ i18n.t('catalog.categories.inside') }}</label>
          <select
            id="category-parent"
            name="parent"
            [(ngModel)]="parent"
            [attr.aria-describedby]="error('parent_id') ? 'category-parent-error' : null"
          >
            <option value="">{{ i18n.t('catalog.categories.top') }}</option>
            @for (choice of choices(); track choice.id) {
              <option [value]="choice.id">{{ choice.label }}</option>
            }
          </select>
          <agora-field-error [problem]="problem()" field="parent_id" for="category-parent" />
        </div>
        <div class="field">
          <label for="category-slug">{{ i18n.t('catalog.slug-optional') }}</label>
          <input
            id="category-slug"
            name="slug"
            [(ngModel)]="slug"
            [attr.aria-invalid]="!!error('slug')"
            [attr.aria-describedby]="error('slug') ? 'category-slug-error' : null"
          />
          <agora-field-error [problem]="problem()" field="slug" for="category-slug" />
        </div>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('catalog.categories.add') }}</button>
      </form>
    }`,
})
export class CategoriesPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('catalog.manage'));
  protected readonly categories = signal<Category[]>([]);
  protected readonly tree = computed(() => treeOf(this.categories()));
  protected readonly choices = computed(() =>
    this.categories().map((c) => ({
      id: c.id,
      label: [...c.breadcrumbs.map((b) => b.name), this.label(c)].join(' › '),
    })),
  );
  protected readonly problem = signal<Problem | null>(null);
  protected readonly treeProblem = signal<Problem | null>(null);
  protected readonly placed = computed(() => (this.problem()?.errors ?? []).map((e) => e.field));
  protected readonly busy = signal(false);
  protected readonly moved = signal<string | null>(null);
  protected readonly renaming = signal<string | null>(null);
  protected readonly dragging = signal<string | null>(null);
  protected readonly dropTarget = signal<string | null>(null);
  protected names: Localized = {};
  protected draft: Localized = {};
  protected parent = '';
  protected slug = '';
  /** The language's name in the member's language ("Deutsch" in the German admin). */
  protected localeName(code: string): string {
    return languageName(this.i18n, code);
  }

  async ngOnInit(): Promise<void> {
    await this.shop.ensureLoaded();
    await this.load();
  }

  protected label(c: Category): string {
    return pick(c.name, this.shop.defaultLocale(), 'en') || c.slug;
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  async load(): Promise<void> {
    const result = await outcome(listCategories());
    if (result.ok) {
      this.categories.set(result.data);
      this.treeProblem.set(null);
    } else {
      this.treeProblem.set(result.problem);
    }
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(
      createCategory({
        body: { name: filled(this.names), parent_id: this.parent || null, slug: this.slug.trim() || null },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.names = {};
    this.slug = '';
    this.moved.set(this.i18n.t('catalog.categories.added', { name: this.label(result.data) }));
    await this.load();
  }

  protected startRename(c: Category): void {
    this.draft = { ...c.name };
    this.renaming.set(c.id);
  }

  protected async rename(c: Category): Promise<void> {
    const result = await outcome(
      updateCategory({
        path: { category_id: c.id },
        headers: ifMatch(c.version),
        body: { name: filled(this.draft) },
      }),
    );
    if (!result.ok) {
      this.treeProblem.set(result.problem);
      return;
    }
    this.renaming.set(null);
    this.moved.set(this.i18n.t('catalog.categories.renamed', { name: this.label(result.data) }));
    await this.load();
  }

  protected async moveFromMenu(event: Event, c: Category): Promise<void> {
    const select = event.target as HTMLSelectElement;
    const target = select.value;
    select.value = '';
    if (!target) return;
    await this.move(c.id, target === 'top' ? null : target);
  }

  /** Moves a category under another (last among its new siblings), or to the top level. */
  private async move(id: string, parent: string | null): Promise<void> {
    const c = this.categories().find((x) => x.id === id);
    if (!c || c.id === parent || c.parent_id === parent) return;
    const siblings = this.categories().filter((x) => (x.parent_id ?? null) === parent);
    const position = siblings.length ? Math.max(...siblings.map((s) => s.position)) + 1 : 0;
    const result = await outcome(
      updateCategory({
        path: { category_id: c.id },
        headers: ifMatch(c.version),
        body: { parent_id: parent, position },
      }),
    );
    if (!result.ok) {
      // A loop (moving a category below one of its own) comes back as a 422 naming parent_id;
      // the tree has no parent field to show it under, so the banner says it in words.
      const why = result.problem.errors?.find((e) => e.field === 'parent_id')?.message;
      this.treeProblem.set(
        why
          ? {
              ...result.problem,
              title: this.i18n.t('catalog.categories.cannot-move', { name: this.label(c) }),
              detail: why,
              errors: [],
            }
          : result.problem,
      );
      this.moved.set(null);
      return;
    }
    this.treeProblem.set(null);
    const where = parent
      ? this.label(this.categories().find((x) => x.id === parent) as Category)
      : this.i18n.t('catalog.categories.top');
    this.moved.set(this.i18n.t('catalog.categories.moved', { name: this.label(c), where }));
    await this.load();
  }

  /** Renumbers the siblings in their new order; only those whose position changes are saved. */
  protected async reorder(node: Node, step: number): Promise<void> {
    const c = node.category;
    const siblings = this.tree();
    const list = c.parent_id ? (this.find(siblings, c.parent_id)?.children ?? []) : siblings;
    const order = list.map((n) => n.category);
    const at = order.findIndex((x) => x.id === c.id);
    const to = at + step;
    if (to < 0 || to >= order.length) return;
    [order[at], order[to]] = [order[to], order[at]];
    for (const [position, sibling] of order.entries()) {
      if (sibling.position === position) continue;
      const result = await outcome(
        updateCategory({ path: { category_id: sibling.id }, headers: ifMatch(sibling.version), body: { position } }),
      );
      if (!result.ok) {
        this.treeProblem.set(result.problem);
        await this.load();
        return;
      }
    }
    this.treeProblem.set(null);
    this.moved.set(
      this.i18n.t(step < 0 ? 'catalog.categories.moved-up' : 'catalog.categories.moved-down', { name: this.label(c) }),
    );
    await this.load();
    setTimeout(() => document.getElementById(`${step < 0 ? 'up' : 'down'}-${c.id}`)?.focus());
  }

  private find(nodes: Node[], id: string): Node | undefined {
    for (const n of nodes) {
      if (n.category.id === id) return n;
      const inside = this.find(n.children, id);
      if (inside) return inside;
    }
    return undefined;
  }

  protected async remove(c: Category): Promise<void> {
    if (!confirm(this.i18n.t('catalog.categories.confirm-delete', { name: this.label(c) }))) return;
    const result = await outcome(deleteCategory({ path: { category_id: c.id }, headers: ifMatch(c.version) }));
    if (!result.ok) {
      this.treeProblem.set(result.problem);
      return;
    }
    this.moved.set(this.i18n.t('catalog.deleted', { name: this.label(c) }));
    await this.load();
  }

  protected dragStart(event: DragEvent, id: string): void {
    event.stopPropagation();
    event.dataTransfer?.setData('text/plain', id);
    this.dragging.set(id);
  }

  protected dragOver(event: DragEvent, id: string): void {
    if (!this.dragging() || this.dragging() === id) return;
    event.preventDefault();
    event.stopPropagation();
    this.dropTarget.set(id);
  }

  protected async drop(event: DragEvent, parent: string | null): Promise<void> {
    event.preventDefault();
    event.stopPropagation();
    const id = this.dragging();
    this.dragging.set(null);
    this.dropTarget.set(null);
    if (id) await this.move(id, parent);
  }
}
