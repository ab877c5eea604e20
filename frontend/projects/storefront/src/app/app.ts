import { ChangeDetectionStrategy, Component, computed, effect, inject } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { I18n, LanguageSwitch, isLocale } from 'shared';
import { Catalog } from './catalog/catalog';
import { CATALOG_TEXTS } from './catalog/translations';
import { CurrencySwitch } from './catalog/currency-switch';
import { SearchBox } from './catalog/search-box';
import { MiniCart } from './cart/mini-cart';
import { Customer } from './customer';
import { STOREFRONT } from './translations';

@Component({
  selector: 'shop-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, LanguageSwitch, CurrencySwitch, SearchBox, MiniCart],
  changeDetection: ChangeDetectionStrategy.OnPush,
  // The shop's colour is an accent only (a stripe, underlines): text keeps the contrast-checked
  // tokens whatever colour a merchant picks.
  host: { '[style.--shop-accent]': 'brandColour()' },
  template: `
    <a class="skip-link" href="#main">{{ i18n.t('common.skip') }}</a>
    <header class="site-header">
      <a class="shop-name" routerLink="/">
        @if (logo(); as logo) {
          <img class="shop-logo" [src]="logo" [alt]="shopName()" />
        } @else {
          {{ shopName() }}
        }
      </a>
      <shop-search-box />
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
          <li>
            <shop-mini-cart />
          </li>
        </ul>
      </nav>
      <div class="switches">
        <agora-language-switch />
        <shop-currency-switch />
      </div>
    </header>
    @if (catalog.topCategories().length) {
      <nav class="category-nav" [attr.aria-label]="i18n.t('nav.categories')">
        <ul>
          @for (category of catalog.topCategories(); track category.id) {
            <li>
              <a [routerLink]="['/c', category.slug]" routerLinkActive="active" ariaCurrentWhenActive="page">{{
                category.name
              }}</a>
            </li>
          }
        </ul>
      </nav>
    }
    <main id="main" tabindex="-1">
      <router-outlet />
    </main>
  `,
})
export class App {
  protected readonly i18n = inject(I18n);
  protected readonly customer = inject(Customer);
  protected readonly catalog = inject(Catalog);
  protected readonly shopName = computed(() => this.customer.shop()?.name ?? '');
  protected readonly logo = computed(() => this.customer.shop()?.logo_url ?? null);
  protected readonly brandColour = computed(() => this.customer.shop()?.brand_colour ?? null);

  constructor() {
    this.i18n.register(STOREFRONT);
    this.i18n.register(CATALOG_TEXTS);
    // A link may name its language (`?lang=de`, as the server's canonical links do): it applies
    // when the link is followed, and a later switch by the shopper is not undone by it.
    let linked: string | null = null;
    inject(Router).events.subscribe((event) => {
      if (event instanceof NavigationEnd) {
        const lang = new URL(event.urlAfterRedirects, 'http://localhost').searchParams.get('lang');
        if (lang !== linked && isLocale(lang)) {
          this.i18n.use(lang);
        }
        linked = lang;
      }
    });
    void this.customer.loadShop();
    void this.customer.ensureLoaded();
    const title = inject(Title);
    effect(() => title.setTitle(this.shopName() || 'Shop'));
  }

  protected async signOut(): Promise<void> {
    await this.customer.signOut();
  }
}
