import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { I18n } from 'shared';
import { PRICING } from '../../texts/pricing';

/** The pricing section's frame: a link per part. */
@Component({
  selector: 'admin-pricing-layout',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<nav class="tabs" [attr.aria-label]="i18n.t('pricing.sections')">
      <a routerLink="/pricing/shipping" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('pricing.shipping')
      }}</a>
      <a routerLink="/pricing/taxes" routerLinkActive ariaCurrentWhenActive="page">{{ i18n.t('pricing.tab.taxes') }}</a>
      <a routerLink="/pricing/price-lists" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('pricing.tab.price-lists')
      }}</a>
      <a routerLink="/pricing/promotions" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('pricing.tab.promotions')
      }}</a>
      <a routerLink="/pricing/cart" routerLinkActive ariaCurrentWhenActive="page">{{ i18n.t('pricing.tab.cart') }}</a>
      <a routerLink="/pricing/customer-groups" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('pricing.tab.customer-groups')
      }}</a>
    </nav>
    <router-outlet />`,
})
export class PricingLayout {
  protected readonly i18n = inject(I18n);

  constructor() {
    // The section's texts come with its chunk rather than with every visit to the admin.
    this.i18n.register(PRICING);
  }
}
