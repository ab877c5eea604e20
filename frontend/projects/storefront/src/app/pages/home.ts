import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n } from 'shared';
import { Customer } from '../customer';

@Component({
  selector: 'shop-home',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('home.title', { shop: customer.shop()?.name ?? '' }) }}</h1>
    <p>{{ i18n.t('home.intro') }}</p>
    @if (!customer.signedIn()) {
      <p>
        <a class="button" routerLink="/register">{{ i18n.t('nav.register') }}</a>
      </p>
    }
  </div>`,
})
export class Home {
  protected readonly i18n = inject(I18n);
  protected readonly customer = inject(Customer);
}
