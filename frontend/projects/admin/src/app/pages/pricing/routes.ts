import { Routes } from '@angular/router';

/**
 * The pricing section (shipping now; taxes, price lists and promotions join it), loaded as one
 * lazy chunk when first visited: a frame with a tab per part, each part its own lazy page.
 */
export const PRICING_ROUTES: Routes = [
  {
    path: '',
    loadComponent: () => import('./pricing-layout').then((m) => m.PricingLayout),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'shipping' },
      { path: 'shipping', loadComponent: () => import('./shipping').then((m) => m.ShippingPage) },
    ],
  },
];
