import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n } from 'shared';
import { PRICING_PRICE_LISTS } from '../../texts/pricing-price-lists';

/** Price lists: placeholder until the page is written. */
@Component({
  selector: 'admin-price-lists',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.price-lists.title') }}</h1>`,
})
export class PriceListsPage {
  protected readonly i18n = inject(I18n);

  constructor() {
    this.i18n.register(PRICING_PRICE_LISTS);
  }
}
