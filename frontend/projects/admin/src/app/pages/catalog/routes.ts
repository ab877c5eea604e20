import { Routes } from '@angular/router';
import { needs } from '../../staff-session';

/** The catalog's screens, each loaded when first visited. */
export const CATALOG_ROUTES: Routes = [
  {
    path: 'products',
    canActivate: [needs('catalog.read')],
    loadComponent: () => import('./products').then((m) => m.ProductsPage),
  },
  {
    path: 'products/new',
    canActivate: [needs('catalog.manage')],
    loadComponent: () => import('./product-editor').then((m) => m.ProductEditor),
  },
  {
    path: 'products/import-export',
    canActivate: [needs('catalog.manage')],
    loadComponent: () => import('./import-export').then((m) => m.ImportExportPage),
  },
  {
    path: 'products/:id',
    canActivate: [needs('catalog.read')],
    loadComponent: () => import('./product-editor').then((m) => m.ProductEditor),
  },
  {
    path: 'categories',
    canActivate: [needs('catalog.read')],
    loadComponent: () => import('./categories').then((m) => m.CategoriesPage),
  },
  {
    path: 'collections',
    canActivate: [needs('catalog.read')],
    loadComponent: () => import('./collections').then((m) => m.CollectionsPage),
  },
  {
    path: 'product-types',
    canActivate: [needs('catalog.read')],
    loadComponent: () => import('./product-types').then((m) => m.ProductTypesPage),
  },
  {
    path: 'catalog-settings',
    canActivate: [needs('catalog.read')],
    loadComponent: () => import('./catalog-settings').then((m) => m.CatalogSettingsPage),
  },
];
