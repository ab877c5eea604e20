import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n } from 'shared';
import { PRICING_PROMOTIONS } from '../../texts/pricing-promotions';

/** Promotions: placeholder until the page is written. */
@Component({
  selector: 'admin-promotions',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.promotions.title') }}</h1>`,
})
export class PromotionsPage {
  protected readonly i18n = inject(I18n);

  constructor() {
    this.i18n.register(PRICING_PROMOTIONS);
  }
}
