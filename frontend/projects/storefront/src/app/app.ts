import { ChangeDetectionStrategy, Component, computed, effect, inject } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { RouterLink, RouterOutlet } from '@angular/router';
import { I18n, LanguageSwitch } from 'shared';
import { Customer } from './customer';
import { STOREFRONT } from './translations';

@Component({
  selector: 'shop-root',
  imports: [RouterOutlet, RouterLink, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="skip-link" href="#main">{{ i18n.t('common.skip') }}</a>
    <header class="site-header">
      <a class="shop-name" routerLink="/">{{ shopName() }}</a>
      <nav [attr.aria-label]="i18n.t('nav.main')">
        <ul>
          <li>
            <a routerLink="/">{{ i18n.t('nav.home') }}</a>
          </li>
          @if (customer.signedIn()) {
            <li>
              <a routerLink="/account">{{ i18n.t('nav.account') }}</a>
            </li>
            <li>
              <button type="button" class="link-button" (click)="signOut()">{{ i18n.t('common.sign-out') }}</button>
            </li>
          } @else {
            <li>
              <a routerLink="/login">{{ i18n.t('nav.login') }}</a>
            </li>
            <li>
              <a routerLink="/register">{{ i18n.t('nav.register') }}</a>
            </li>
          }
        </ul>
      </nav>
      <agora-language-switch />
    </header>
    <main id="main" tabindex="-1">
      <router-outlet />
    </main>
  `,
})
export class App {
  protected readonly i18n = inject(I18n);
  protected readonly customer = inject(Customer);
  protected readonly shopName = computed(() => this.customer.shop()?.name ?? '');

  constructor() {
    this.i18n.register(STOREFRONT);
    void this.customer.loadShop();
    void this.customer.ensureLoaded();
    const title = inject(Title);
    effect(() => title.setTitle(this.shopName() || 'Shop'));
  }

  protected async signOut(): Promise<void> {
    await this.customer.signOut();
  }
}
