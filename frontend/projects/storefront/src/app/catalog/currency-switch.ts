import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n } from 'shared';
import { Catalog } from './catalog';

/** Prices in another currency the shop sells in; shown only when it sells in more than one. */
@Component({
  selector: 'shop-currency-switch',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `@if (catalog.currencies().length > 1) {
    <label class="language-switch">
      <span class="visually-hidden">{{ i18n.t('currency.label') }}</span>
      <select (change)="choose($event)" [attr.aria-label]="i18n.t('currency.label')">
        @for (code of catalog.currencies(); track code) {
          <option [value]="code" [selected]="code === catalog.currency()">{{ code }}</option>
        }
      </select>
    </label>
  }`,
})
export class CurrencySwitch {
  protected readonly i18n = inject(I18n);
  protected readonly catalog = inject(Catalog);

  protected choose(event: Event): void {
    this.catalog.chooseCurrency((event.target as HTMLSelectElement).value);
  }
}
