import { ChangeDetectionStrategy, Component, inject, input, output, signal } from '@angular/core';
import { I18n } from 'shared';
import { InventoryLookups, type VariantRef } from './inventory-support';

/** A line a form collects: a variant and how many. */
export interface PickedLine {
  variant: VariantRef;
  quantity: number;
}

/**
 * Adds a line to a hold or a transfer: find variants by product name or SKU, choose one, say how
 * many. Plain controls in a group (not a form of its own: it sits inside the hold or transfer
 * form), so Enter in the search field searches rather than submitting the outer form.
 */
@Component({
  selector: 'admin-variant-picker',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<fieldset class="variant-picker">
    <legend>{{ i18n.t('inventory.picker.legend') }}</legend>
    <div class="grid-3">
      <div class="field">
        <label [for]="idPrefix() + '-find'">{{ i18n.t('inventory.stock.search') }}</label>
        <div class="row">
          <input
            [id]="idPrefix() + '-find'"
            type="search"
            autocomplete="off"
            [value]="term()"
            (input)="term.set($any($event.target).value)"
            (keydown.enter)="$event.preventDefault(); find()"
          />
          <button type="button" class="button secondary" (click)="find()">
            {{ i18n.t('inventory.stock.find') }}
          </button>
        </div>
      </div>
      <div class="field">
        <label [for]="idPrefix() + '-variant'">{{ i18n.t('inventory.picker.variant') }}</label>
        <select
          [id]="idPrefix() + '-variant'"
          [disabled]="!found().length"
          (change)="chosen.set($any($event.target).value)"
        >
          @for (v of found(); track v.id) {
            <option [value]="v.id" [selected]="v.id === chosen()">{{ v.sku }} — {{ v.label }}</option>
          } @empty {
            <option value="">{{ i18n.t(searched() ? 'inventory.stock.none' : 'inventory.picker.find-first') }}</option>
          }
        </select>
      </div>
      <div class="field">
        <label [for]="idPrefix() + '-quantity'">{{ i18n.t('inventory.quantity') }}</label>
        <input
          [id]="idPrefix() + '-quantity'"
          type="number"
          min="1"
          step="1"
          [value]="quantity()"
          (input)="quantity.set($any($event.target).value)"
          [attr.aria-invalid]="!!invalid()"
          [attr.aria-describedby]="invalid() ? idPrefix() + '-quantity-error' : null"
        />
        @if (invalid()) {
          <p class="field-error" [id]="idPrefix() + '-quantity-error'">{{ i18n.t('inventory.picker.quantity') }}</p>
        }
      </div>
    </div>
    <button type="button" class="button secondary" [disabled]="!chosen()" (click)="add()">
      {{ i18n.t('inventory.picker.add') }}
    </button>
  </fieldset>`,
})
export class VariantPicker {
  protected readonly i18n = inject(I18n);
  private readonly lookups = inject(InventoryLookups);
  readonly idPrefix = input.required<string>();
  readonly added = output<PickedLine>();
  protected readonly term = signal('');
  protected readonly found = signal<VariantRef[]>([]);
  protected readonly chosen = signal('');
  protected readonly quantity = signal('1');
  protected readonly searched = signal(false);
  protected readonly invalid = signal(false);

  protected async find(): Promise<void> {
    const { variants } = await this.lookups.findVariants(this.term());
    this.found.set(variants);
    this.chosen.set(variants[0]?.id ?? '');
    this.searched.set(true);
  }

  protected add(): void {
    const variant = this.found().find((v) => v.id === this.chosen());
    const quantity = Number(this.quantity());
    if (!variant) return;
    if (!Number.isInteger(quantity) || quantity < 1) {
      this.invalid.set(true);
      return;
    }
    this.invalid.set(false);
    this.added.emit({ variant, quantity });
    this.quantity.set('1');
  }
}
