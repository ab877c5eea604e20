import { Routes } from '@angular/router';
import { needs } from '../../staff-session';

/**
 * The inventory section, loaded as one lazy chunk when first visited (its texts too): a frame
 * with a tab per part, each part its own lazy page.
 */
export const INVENTORY_ROUTES: Routes = [
  {
    path: '',
    loadComponent: () => import('./inventory-layout').then((m) => m.InventoryLayout),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'stock' },
      { path: 'stock', loadComponent: () => import('./stock').then((m) => m.StockPage) },
      { path: 'ledger/:variantId', loadComponent: () => import('./ledger').then((m) => m.LedgerPage) },
      { path: 'locations', loadComponent: () => import('./locations').then((m) => m.LocationsPage) },
      { path: 'reservations', loadComponent: () => import('./reservations').then((m) => m.ReservationsPage) },
      { path: 'transfers', loadComponent: () => import('./transfers').then((m) => m.TransfersPage) },
      {
        path: 'settings',
        canActivate: [needs('inventory.manage')],
        loadComponent: () => import('./settings').then((m) => m.InventorySettingsPage),
      },
    ],
  },
];
