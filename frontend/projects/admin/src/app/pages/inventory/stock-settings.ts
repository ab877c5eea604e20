import { ChangeDetectionStrategy, Component, effect, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  fieldMessage,
  getVariantStock,
  outcome,
  setVariantStockSettings,
  type Problem,
  type VariantStock,
} from 'shared';
import { fromLocalInput, toLocalInput } from '../catalog/catalog-support';
import { ifMatch, localProblem } from './inventory-support';

type Policy = VariantStock['settings']['policy'];

interface SettingsForm {
  tracked: boolean;
  policy: Policy;
  backorder_limit: string;
  preorder_until: string;
  low_stock_threshold: string;
}

/** A typed whole number for an optional field: '' → null, anything else → the number or NaN. */
export function optionalWhole(typed: string | number | null): number | null {
  // A number input's model is a number once typed in (a string before): read either.
  const text = String(typed ?? '').trim();
  if (text === '') return null;
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

/** The `PUT …/settings` body (every field: the PUT replaces them), or the field that is wrong. */
export function settingsBody(f: SettingsForm): { body: VariantStock['settings'] } | { field: string } {
  const backorder = optionalWhole(f.backorder_limit);
  const threshold = optionalWhole(f.low_stock_threshold);
  if (Number.isNaN(backorder)) return { field: 'backorder_limit' };
  if (Number.isNaN(threshold)) return { field: 'low_stock_threshold' };
  return {
    body: {
      tracked: f.tracked,
      policy: f.policy,
      backorder_limit: f.policy === 'backorder' ? backorder : null,
      preorder_until: f.policy === 'preorder' ? fromLocalInput(f.preorder_until) : null,
      low_stock_threshold: threshold,
    },
  };
}

/**
 * How one variant is counted and sold: tracked or not, what happens when it runs out (not sold,
 * backorder up to a limit, preorder until a date) and the low-stock threshold. Saved with the
 * settings' version; a 412 offers to reload.
 */
@Component({
  selector: 'admin-stock-settings',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<section class="card" aria-labelledby="stock-settings-title">
    <h2 id="stock-settings-title">{{ i18n.t('inventory.rules.title', { sku: stock().sku }) }}</h2>
    <agora-problem-alert
      [problem]="problem()"
      [placed]="['tracked', 'policy', 'backorder_limit', 'preorder_until', 'low_stock_threshold']"
      (reload)="reload()"
    />
    <form (ngSubmit)="save()" novalidate>
      <label class="inline">
        <input type="checkbox" name="tracked" [(ngModel)]="form().tracked" />
        {{ i18n.t('inventory.rules.tracked') }}
      </label>
      <p class="hint">{{ i18n.t('inventory.rules.tracked-hint') }}</p>
      <div class="grid-3">
        <div class="field">
          <label for="rules-policy">{{ i18n.t('inventory.rules.policy') }}</label>
          <select id="rules-policy" name="policy" [(ngModel)]="form().policy" [disabled]="!form().tracked">
            <option value="deny">{{ i18n.t('inventory.policy.deny') }}</option>
            <option value="backorder">{{ i18n.t('inventory.policy.backorder') }}</option>
            <option value="preorder">{{ i18n.t('inventory.policy.preorder') }}</option>
          </select>
          <agora-field-error [problem]="problem()" field="policy" for="rules-policy" />
        </div>
        @if (form().policy === 'backorder') {
          <div class="field">
            <label for="rules-backorder">{{ i18n.t('inventory.rules.backorder-limit') }}</label>
            <input
              id="rules-backorder"
              name="backorder_limit"
              type="number"
              min="0"
              step="1"
              [(ngModel)]="form().backorder_limit"
              [attr.aria-invalid]="!!error('backorder_limit')"
              aria-describedby="rules-backorder-hint"
            />
            <p class="hint" id="rules-backorder-hint">{{ i18n.t('inventory.rules.backorder-hint') }}</p>
            <agora-field-error [problem]="problem()" field="backorder_limit" for="rules-backorder" />
          </div>
        }
        @if (form().policy === 'preorder') {
          <div class="field">
            <label for="rules-preorder">{{ i18n.t('inventory.rules.preorder-until') }}</label>
            <input
              id="rules-preorder"
              name="preorder_until"
              type="datetime-local"
              [(ngModel)]="form().preorder_until"
              [attr.aria-invalid]="!!error('preorder_until')"
              [attr.aria-describedby]="error('preorder_until') ? 'rules-preorder-error' : null"
            />
            <agora-field-error [problem]="problem()" field="preorder_until" for="rules-preorder" />
          </div>
        }
        <div class="field">
          <label for="rules-threshold">{{ i18n.t('inventory.rules.low-stock') }}</label>
          <input
            id="rules-threshold"
            name="low_stock_threshold"
            type="number"
            min="0"
            step="1"
            [(ngModel)]="form().low_stock_threshold"
            [attr.aria-invalid]="!!error('low_stock_threshold')"
            aria-describedby="rules-threshold-hint"
          />
          <p class="hint" id="rules-threshold-hint">{{ i18n.t('inventory.rules.low-stock-hint') }}</p>
          <agora-field-error [problem]="problem()" field="low_stock_threshold" for="rules-threshold" />
        </div>
      </div>
      <div class="row form-actions">
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('inventory.rules.save') }}</button>
        <button type="button" class="button secondary" (click)="closed.emit()">
          {{ i18n.t('inventory.close') }}
        </button>
      </div>
    </form>
  </section>`,
})
export class StockSettingsForm {
  protected readonly i18n = inject(I18n);
  readonly stock = input.required<VariantStock>();
  readonly saved = output<VariantStock>();
  readonly closed = output<void>();
  protected readonly form = signal<SettingsForm>({
    tracked: true,
    policy: 'deny',
    backorder_limit: '',
    preorder_until: '',
    low_stock_threshold: '',
  });
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  private version = 0;

  constructor() {
    effect(() => this.fill(this.stock()));
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  private fill(stock: VariantStock): void {
    const s = stock.settings;
    this.version = stock.settings_version;
    this.form.set({
      tracked: s.tracked,
      policy: s.policy,
      backorder_limit: s.backorder_limit?.toString() ?? '',
      preorder_until: toLocalInput(s.preorder_until),
      low_stock_threshold: s.low_stock_threshold?.toString() ?? '',
    });
  }

  /** After a 412: the settings as saved now; the member applies their change again. */
  protected async reload(): Promise<void> {
    const result = await outcome(getVariantStock({ path: { variant_id: this.stock().variant_id } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.saved.emit(result.data);
  }

  protected async save(): Promise<void> {
    const checked = settingsBody(this.form());
    if ('field' in checked) {
      this.problem.set(localProblem(checked.field, this.i18n.t('inventory.whole-number')));
      return;
    }
    this.busy.set(true);
    const result = await outcome(
      setVariantStockSettings({
        path: { variant_id: this.stock().variant_id },
        headers: ifMatch(this.version),
        body: checked.body,
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.saved.emit(result.data);
  }
}
