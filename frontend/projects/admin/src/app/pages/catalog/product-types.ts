import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  createProductType,
  fieldMessage,
  listProductTypes,
  outcome,
  type NewProductType,
  type Problem,
  type ProductType,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CatalogShop, type Localized, filled, languageName, pick, words } from './catalog-support';

type Kind = ProductType['attributes'][number]['kind'];

interface AttributeRow {
  code: string;
  names: Localized;
  kind: Kind;
  options: string;
  filterable: boolean;
}

export const KINDS: Kind[] = ['text', 'number', 'boolean', 'select', 'multi_select'];

/** Product types and the typed attributes their products carry (and shoppers filter by). */
@Component({
  selector: 'admin-product-types',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('nav.product-types') }}</h1>
    <agora-problem-alert [problem]="listProblem()" />
    @if (notice(); as message) {
      <p class="notice" role="status">{{ message }}</p>
    }
    @for (t of types(); track t.id) {
      <section class="card" [attr.aria-labelledby]="'type-' + t.id">
        <h2 [id]="'type-' + t.id">{{ t.name }}</h2>
        @if (t.attributes.length) {
          <table>
            <caption class="visually-hidden">
              {{
                i18n.t('catalog.types.attributes-of', { name: t.name })
              }}
            </caption>
            <thead>
              <tr>
                <th scope="col">{{ i18n.t('catalog.types.attribute') }}</th>
                <th scope="col">{{ i18n.t('catalog.types.code') }}</th>
                <th scope="col">{{ i18n.t('catalog.types.kind') }}</th>
                <th scope="col">{{ i18n.t('catalog.types.values') }}</th>
                <th scope="col">{{ i18n.t('catalog.types.filter') }}</th>
              </tr>
            </thead>
            <tbody>
              @for (a of t.attributes; track a.code) {
                <tr>
                  <td>{{ label(a.name) || a.code }}</td>
                  <td>
                    <code>{{ a.code }}</code>
                  </td>
                  <td>{{ i18n.t('catalog.types.kind.' + a.kind) }}</td>
                  <td>{{ a.options.join(', ') }}</td>
                  <td>{{ i18n.t(a.filterable ? 'catalog.yes' : 'catalog.no') }}</td>
                </tr>
              }
            </tbody>
          </table>
        } @else {
          <p>{{ i18n.t('catalog.types.no-attributes') }}</p>
        }
      </section>
    } @empty {
      <p>{{ i18n.t('catalog.types.none') }}</p>
    }

    @if (canManage()) {
      <h2 id="new-type-title">{{ i18n.t('catalog.types.add') }}</h2>
      <agora-problem-alert [problem]="problem()" [placed]="placed()" />
      <form (ngSubmit)="create()" novalidate aria-labelledby="new-type-title">
        <div class="field">
          <label for="type-name">{{ i18n.t('catalog.products.name') }}</label>
          <input
            id="type-name"
            name="name"
            [(ngModel)]="name"
            [attr.aria-invalid]="!!error('name')"
            [attr.aria-describedby]="error('name') ? 'type-name-error' : null"
          />
          <agora-field-error [problem]="problem()" field="name" for="type-name" />
        </div>
        @for (a of rows(); track a; let i = $index) {
          @let at = 'attributes[' + i + '].';
          <fieldset class="attribute">
            <legend>{{ i18n.t('catalog.types.attribute-n', { n: i + 1 }) }}</legend>
            <div class="grid-3">
              <div class="field">
                <label [for]="'attr-' + i + '-code'">{{ i18n.t('catalog.types.code') }}</label>
                <input
                  [id]="'attr-' + i + '-code'"
                  [name]="'attr-' + i + '-code'"
                  [(ngModel)]="a.code"
                  [attr.aria-invalid]="!!error(at + 'code')"
                  [attr.aria-describedby]="error(at + 'code') ? 'attr-' + i + '-code-error' : 'attr-code-hint'"
                />
                <agora-field-error [problem]="problem()" [field]="at + 'code'" [for]="'attr-' + i + '-code'" />
              </div>
              @for (l of shop.locales(); track l) {
                <div class="field">
                  <label [for]="'attr-' + i + '-name-' + l">{{
                    i18n.t('catalog.name-in', { language: localeName(l) })
                  }}</label>
                  <input
                    [id]="'attr-' + i + '-name-' + l"
                    [name]="'attr-' + i + '-name-' + l"
                    [(ngModel)]="a.names[l]"
                    [attr.aria-invalid]="!!error(at + 'name.' + l)"
                    [attr.aria-describedby]="error(at + 'name.' + l) ? 'attr-' + i + '-name-' + l + '-error' : null"
                  />
                  <agora-field-error
                    [problem]="problem()"
                    [field]="at + 'name.' + l"
                    [for]="'attr-' + i + '-name-' + l"
                  />
                  @if (l === shop.defaultLocale()) {
                    <agora-field-error [problem]="problem()" [field]="at + 'name'" [for]="'attr-' + i + '-name'" />
                  }
                </div>
              }
              <div class="field">
                <label [for]="'attr-' + i + '-kind'">{{ i18n.t('catalog.types.kind') }}</label>
                <select
                  [id]="'attr-' + i + '-kind'"
                  [name]="'attr-' + i + '-kind'"
                  [(ngModel)]="a.kind"
                  [attr.aria-describedby]="error(at + 'kind') ? 'attr-' + i + '-kind-error' : null"
                >
                  @for (k of kindList; track k) {
                    <option [value]="k">{{ i18n.t('catalog.types.kind.' + k) }}</option>
                  }
                </select>
                <agora-field-error [problem]="problem()" [field]="at + 'kind'" [for]="'attr-' + i + '-kind'" />
              </div>
            </div>
            @if (a.kind === 'select' || a.kind === 'multi_select') {
              <div class="field">
                <label [for]="'attr-' + i + '-options'">{{ i18n.t('catalog.values-list') }}</label>
                <input
                  [id]="'attr-' + i + '-options'"
                  [name]="'attr-' + i + '-options'"
                  [(ngModel)]="a.options"
                  [attr.aria-invalid]="!!optionsError(i)"
                  [attr.aria-describedby]="optionsError(i) ? 'attr-' + i + '-options-error' : null"
                />
                @if (optionsError(i); as message) {
                  <p class="field-error" [id]="'attr-' + i + '-options-error'">{{ message }}</p>
                }
              </div>
            }
            <div class="row spread">
              <label class="inline">
                <input type="checkbox" [name]="'attr-' + i + '-filterable'" [(ngModel)]="a.filterable" />
                {{ i18n.t('catalog.types.filterable') }}
              </label>
              <button
                type="button"
                class="button secondary"
                (click)="removeRow(i)"
                [attr.aria-label]="i18n.t('catalog.types.remove-attribute', { name: a.code || i + 1 })"
              >
                {{ i18n.t('catalog.remove') }}
              </button>
            </div>
          </fieldset>
        }
        @if (rows().length) {
          <p class="hint" id="attr-code-hint">{{ i18n.t('catalog.types.code-hint') }}</p>
        }
        <div class="row">
          <button type="button" class="button secondary" (click)="addRow()">
            {{ i18n.t('catalog.types.add-attribute') }}
          </button>
          <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('catalog.types.create') }}</button>
        </div>
      </form>
    }`,
})
export class ProductTypesPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('catalog.manage'));
  protected readonly types = signal<ProductType[]>([]);
  protected readonly rows = signal<AttributeRow[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly busy = signal(false);
  protected readonly placed = computed(() =>
    (this.problem()?.errors ?? [])
      .map((e) => e.field)
      .filter((f) => f === 'name' || /^attributes\[\d+\]\.(code|kind|options.*|name(\..+)?)$/.test(f)),
  );
  protected readonly kindList = KINDS;
  /** The language's name in the member's language ("Deutsch" in the German admin). */
  protected localeName(code: string): string {
    return languageName(this.i18n, code);
  }
  protected name = '';

  async ngOnInit(): Promise<void> {
    await this.shop.ensureLoaded();
    await this.load();
  }

  protected label(text: Localized): string {
    return pick(text, this.shop.defaultLocale(), 'en');
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected optionsError(i: number): string | null {
    const prefix = `attributes[${i}].options`;
    return (this.problem()?.errors ?? []).find((e) => e.field.startsWith(prefix))?.message ?? null;
  }

  protected addRow(): void {
    this.rows.update((rows) => [...rows, { code: '', names: {}, kind: 'text', options: '', filterable: false }]);
    const index = this.rows().length - 1;
    setTimeout(() => document.getElementById(`attr-${index}-code`)?.focus());
  }

  protected removeRow(i: number): void {
    this.rows.update((rows) => rows.filter((_, j) => j !== i));
  }

  private async load(): Promise<void> {
    const result = await outcome(listProductTypes());
    if (result.ok) {
      this.types.set(result.data);
    } else {
      this.listProblem.set(result.problem);
    }
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    const body: NewProductType = {
      name: this.name.trim(),
      attributes: this.rows().map((a) => ({
        code: a.code.trim(),
        name: filled(a.names),
        kind: a.kind,
        options: a.kind === 'select' || a.kind === 'multi_select' ? words(a.options) : [],
        filterable: a.filterable,
      })),
    };
    const result = await outcome(createProductType({ body }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.notice.set(this.i18n.t('catalog.types.added', { name: result.data.name }));
    this.name = '';
    this.rows.set([]);
    await this.load();
  }
}
