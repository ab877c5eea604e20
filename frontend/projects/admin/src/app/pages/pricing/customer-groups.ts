import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n } from 'shared';
import { PRICING_GROUPS } from '../../texts/pricing-groups';

/** Customer groups: placeholder until the page is written. */
@Component({
  selector: 'admin-customer-groups',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.groups.title') }}</h1>`,
})
export class CustomerGroupsPage {
  protected readonly i18n = inject(I18n);

  constructor() {
    this.i18n.register(PRICING_GROUPS);
  }
}
