import { Routes } from '@angular/router';

/**
 * The pricing section (shipping, taxes, price lists, promotions, customer groups), loaded as one
 * lazy chunk when first visited: a frame with a tab per part, each part its own lazy page.
 */
export const PRICING_ROUTES: Routes = [
  {
    path: '',
    loadComponent: () => import('./pricing-layout').then((m) => m.PricingLayout),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'shipping' },
      { path: 'shipping', loadComponent: () => import('./shipping').then((m) => m.ShippingPage) },
      { path: 'taxes', loadComponent: () => import('./taxes').then((m) => m.TaxesPage) },
      { path: 'price-lists', loadComponent: () => import('./price-lists').then((m) => m.PriceListsPage) },
      { path: 'promotions', loadComponent: () => import('./promotions').then((m) => m.PromotionsPage) },
      { path: 'cart', loadComponent: () => import('./cart-rules').then((m) => m.CartRulesPage) },
      { path: 'customer-groups', loadComponent: () => import('./customer-groups').then((m) => m.CustomerGroupsPage) },
    ],
  },
];
