import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  ProblemAlert,
  bulkChangeProductCategories,
  bulkChangeProductPrices,
  bulkChangeProductStatus,
  outcome,
  type BulkStatusChange,
  type Problem,
} from 'shared';
import { CatalogShop, toMinor } from './catalog-support';

type Selection = BulkStatusChange['selection'];
type Filter = NonNullable<Selection['filter']>;
type Action = 'status' | 'percent' | 'amount' | 'category';

/**
 * What a merchant does to many products at once: one status, prices by a percentage or by an
 * amount per currency, or a category added. The change runs as a task; the page watches it.
 */
@Component({
  selector: 'admin-bulk-actions',
  imports: [FormsModule, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<form (ngSubmit)="start()" novalidate class="bulk-form">
    <fieldset class="checks">
      <legend>{{ i18n.t('catalog.bulk.which') }}</legend>
      <label
        ><input type="radio" name="scope" value="selected" [(ngModel)]="scope" />
        {{ i18n.t('catalog.bulk.scope-selected', { count: ids().length }) }}</label
      >
      <label
        ><input type="radio" name="scope" value="filter" [(ngModel)]="scope" />
        {{ i18n.t('catalog.bulk.scope-filter') }}</label
      >
    </fieldset>
    <div class="field">
      <label for="bulk-action">{{ i18n.t('catalog.bulk.change') }}</label>
      <select id="bulk-action" name="action" [(ngModel)]="action">
        <option value="status">{{ i18n.t('catalog.bulk.action.status') }}</option>
        <option value="percent">{{ i18n.t('catalog.bulk.action.percent') }}</option>
        <option value="amount">{{ i18n.t('catalog.bulk.action.amount') }}</option>
        <option value="category">{{ i18n.t('catalog.bulk.action.category') }}</option>
      </select>
    </div>
    @switch (action()) {
      @case ('status') {
        <div class="field">
          <label for="bulk-status">{{ i18n.t('catalog.bulk.new-status') }}</label>
          <select id="bulk-status" name="status" [(ngModel)]="status">
            <option value="active">{{ i18n.t('catalog.status.active') }}</option>
            <option value="draft">{{ i18n.t('catalog.status.draft') }}</option>
            <option value="archived">{{ i18n.t('catalog.status.archived') }}</option>
          </select>
        </div>
      }
      @case ('percent') {
        <div class="field">
          <label for="bulk-percent">{{ i18n.t('catalog.bulk.percent') }}</label>
          <input id="bulk-percent" name="percent" inputmode="decimal" [(ngModel)]="percent" />
        </div>
      }
      @case ('amount') {
        <div class="grid-3">
          @for (c of shop.currencies(); track c) {
            <div class="field">
              <label [for]="'bulk-amount-' + c">{{ i18n.t('catalog.bulk.amount', { currency: c }) }}</label>
              <input
                [id]="'bulk-amount-' + c"
                [name]="'amount-' + c"
                inputmode="decimal"
                [ngModel]="amounts()[c] ?? ''"
                (ngModelChange)="setAmount(c, $event)"
              />
            </div>
          }
        </div>
      }
      @case ('category') {
        <div class="field">
          <label for="bulk-category">{{ i18n.t('catalog.bulk.category') }}</label>
          <select id="bulk-category" name="category" [(ngModel)]="category">
            <option value="">—</option>
            @for (c of categories(); track c.id) {
              <option [value]="c.id">{{ c.label }}</option>
            }
          </select>
        </div>
      }
    }
    <agora-problem-alert [problem]="problem()" />
    <button class="button" type="submit" [disabled]="busy()">{{ applyLabel() }}</button>
  </form>`,
})
export class BulkActions {
  protected readonly shop = inject(CatalogShop);
  protected readonly i18n = inject(I18n);
  readonly ids = input.required<string[]>();
  readonly filter = input.required<Filter>();
  readonly categories = input<{ id: string; label: string }[]>([]);
  /** The started task's id. */
  readonly started = output<string>();
  protected readonly scope = signal<'selected' | 'filter'>('selected');
  protected readonly action = signal<Action>('status');
  protected readonly status = signal<BulkStatusChange['status']>('active');
  protected readonly percent = signal('');
  protected readonly amounts = signal<Record<string, string>>({});
  protected readonly category = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly applyLabel = computed(() =>
    this.scope() === 'selected'
      ? this.i18n.t('catalog.bulk.apply-selected', { count: this.ids().length })
      : this.i18n.t('catalog.bulk.apply-filter'),
  );

  protected setAmount(currency: string, value: string): void {
    this.amounts.update((all) => ({ ...all, [currency]: value }));
  }

  /** A mistake the form sees itself, shown like the API's own 422 so it reads the same. */
  private refuse(field: string, message: string): void {
    this.problem.set({
      type: 'https://agora.dev/problems/validation',
      title: this.i18n.t('catalog.bulk.invalid'),
      detail: message,
      status: 422,
      errors: [{ field, message }],
    });
  }

  protected async start(): Promise<void> {
    const selection: Selection = this.scope() === 'selected' ? { ids: this.ids() } : { filter: this.filter() };
    let call;
    switch (this.action()) {
      case 'status':
        call = bulkChangeProductStatus({ body: { selection, status: this.status() } });
        break;
      case 'percent': {
        const typed = this.percent().trim().replace(',', '.');
        if (!/^-?\d+(\.\d{1,2})?$/.test(typed)) {
          return this.refuse('percent_basis_points', this.i18n.t('catalog.bulk.percent-invalid'));
        }
        call = bulkChangeProductPrices({ body: { selection, percent_basis_points: Math.round(Number(typed) * 100) } });
        break;
      }
      case 'amount': {
        const amounts: Record<string, number> = {};
        for (const [currency, typed] of Object.entries(this.amounts())) {
          const minor = toMinor(typed, currency);
          if (minor === null) continue;
          if (Number.isNaN(minor)) {
            return this.refuse(`amounts.${currency}`, this.i18n.t('catalog.bulk.amount-invalid', { typed, currency }));
          }
          amounts[currency] = minor;
        }
        if (!Object.keys(amounts).length) return this.refuse('amounts', this.i18n.t('catalog.bulk.amount-missing'));
        call = bulkChangeProductPrices({ body: { selection, amounts } });
        break;
      }
      case 'category':
        if (!this.category()) return this.refuse('add', this.i18n.t('catalog.bulk.category-missing'));
        call = bulkChangeProductCategories({ body: { selection, add: [this.category()], remove: [] } });
        break;
    }
    this.busy.set(true);
    const result = await outcome(call);
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.started.emit(result.data.task_id);
  }
}
