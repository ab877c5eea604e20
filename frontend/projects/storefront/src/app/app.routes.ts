import { Routes } from '@angular/router';
import { signedIn } from './customer';

/** Every page is its own lazy chunk: the first visit downloads only the shell and its page. */
export const routes: Routes = [
  { path: '', loadComponent: () => import('./pages/home').then((m) => m.Home) },
  {
    path: 'c/:slug',
    data: { kind: 'category' },
    loadComponent: () => import('./catalog/product-list').then((m) => m.ProductList),
  },
  {
    path: 'collections/:slug',
    data: { kind: 'collection' },
    loadComponent: () => import('./catalog/product-list').then((m) => m.ProductList),
  },
  {
    path: 'search',
    data: { kind: 'search' },
    loadComponent: () => import('./catalog/product-list').then((m) => m.ProductList),
  },
  // The address the server describes for crawlers (src/seo.rs): keep the two in step.
  { path: 'p/:slug', loadComponent: () => import('./catalog/product-page').then((m) => m.ProductPage) },
  // The longer address some links use; the page's canonical link stays `/p/<slug>`.
  { path: 'products/:slug', loadComponent: () => import('./catalog/product-page').then((m) => m.ProductPage) },
  { path: 'cart', loadComponent: () => import('./cart/cart-page').then((m) => m.CartPage) },
  { path: 'register', loadComponent: () => import('./pages/register').then((m) => m.Register) },
  { path: 'login', loadComponent: () => import('./pages/login').then((m) => m.Login) },
  { path: 'forgot-password', loadComponent: () => import('./pages/forgot-password').then((m) => m.ForgotPassword) },
  // The pages the shop's emails link to: the URLs identity and notifications put in them.
  { path: 'reset-password', loadComponent: () => import('./pages/reset-password').then((m) => m.ResetPassword) },
  { path: 'verify-email', loadComponent: () => import('./pages/verify-email').then((m) => m.VerifyEmail) },
  { path: 'unsubscribe', loadComponent: () => import('./pages/unsubscribe').then((m) => m.Unsubscribe) },
  {
    path: 'account',
    canActivate: [signedIn],
    loadComponent: () => import('./pages/account/account').then((m) => m.AccountLayout),
    children: [
      { path: '', loadComponent: () => import('./pages/account/profile').then((m) => m.Profile) },
      { path: 'addresses', loadComponent: () => import('./pages/account/addresses').then((m) => m.Addresses) },
      { path: 'sessions', loadComponent: () => import('./pages/account/sessions').then((m) => m.Sessions) },
      { path: 'privacy', loadComponent: () => import('./pages/account/privacy').then((m) => m.Privacy) },
    ],
  },
  { path: '**', loadComponent: () => import('./pages/not-found').then((m) => m.NotFound) },
];
