import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n } from 'shared';
import { PRICING_TAXES } from '../../texts/pricing-taxes';

/** Taxes: placeholder until the page is written. */
@Component({
  selector: 'admin-taxes',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.taxes.title') }}</h1>`,
})
export class TaxesPage {
  protected readonly i18n = inject(I18n);

  constructor() {
    this.i18n.register(PRICING_TAXES);
  }
}
