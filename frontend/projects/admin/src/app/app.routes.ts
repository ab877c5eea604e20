import { Routes } from '@angular/router';
import { needs, staffSignedIn } from './staff-session';
import { operatorSignedIn } from './platform/operator-session';
import { CATALOG_ROUTES } from './pages/catalog/routes';

export const routes: Routes = [
  { path: 'sign-in', loadComponent: () => import('./pages/sign-in').then((m) => m.SignIn) },
  // The pages staff emails link to: identity's /admin/reset-password and /admin/accept-invitation.
  {
    path: 'reset-password',
    data: { invitation: false },
    loadComponent: () => import('./pages/set-password').then((m) => m.SetPassword),
  },
  {
    path: 'accept-invitation',
    data: { invitation: true },
    loadComponent: () => import('./pages/set-password').then((m) => m.SetPassword),
  },
  { path: 'platform/sign-in', loadComponent: () => import('./platform/sign-in').then((m) => m.OperatorSignIn) },
  {
    path: 'platform',
    canActivate: [operatorSignedIn],
    loadComponent: () => import('./platform/shell').then((m) => m.PlatformShell),
    children: [
      { path: '', loadComponent: () => import('./platform/console').then((m) => m.PlatformConsole) },
      { path: 'jobs', loadComponent: () => import('./platform/jobs').then((m) => m.PlatformJobsPage) },
      { path: 'events', loadComponent: () => import('./platform/events').then((m) => m.PlatformEventsPage) },
      { path: 'operators', loadComponent: () => import('./platform/operators').then((m) => m.PlatformOperatorsPage) },
    ],
  },
  {
    path: '',
    canActivate: [staffSignedIn],
    loadComponent: () => import('./pages/shell').then((m) => m.Shell),
    children: [
      { path: '', loadComponent: () => import('./pages/overview').then((m) => m.Overview) },
      {
        path: 'staff',
        canActivate: [needs('staff.manage')],
        loadComponent: () => import('./pages/staff').then((m) => m.StaffPage),
      },
      {
        path: 'roles',
        canActivate: [needs('roles.manage')],
        loadComponent: () => import('./pages/roles').then((m) => m.RolesPage),
      },
      {
        path: 'api-keys',
        canActivate: [needs('api_keys.manage')],
        loadComponent: () => import('./pages/api-keys').then((m) => m.ApiKeysPage),
      },
      {
        path: 'security',
        canActivate: [needs('settings.manage')],
        loadComponent: () => import('./pages/security').then((m) => m.SecurityPage),
      },
      {
        path: 'shop-settings',
        canActivate: [needs('settings.manage')],
        loadComponent: () => import('./pages/operations/shop-settings').then((m) => m.ShopSettingsPage),
      },
      {
        path: 'single-sign-on',
        canActivate: [needs('settings.manage')],
        loadComponent: () => import('./pages/operations/single-sign-on').then((m) => m.SingleSignOnPage),
      },
      {
        path: 'webhooks',
        canActivate: [needs('webhooks.manage')],
        loadComponent: () => import('./pages/operations/webhooks').then((m) => m.WebhooksPage),
      },
      {
        path: 'webhooks/:id',
        canActivate: [needs('webhooks.manage')],
        loadComponent: () => import('./pages/operations/webhook-endpoint').then((m) => m.WebhookEndpointPage),
      },
      {
        path: 'emails',
        canActivate: [needs('notifications.manage')],
        loadComponent: () => import('./pages/operations/email-templates').then((m) => m.EmailTemplatesPage),
      },
      {
        path: 'emails/log',
        canActivate: [needs('notifications.manage')],
        loadComponent: () => import('./pages/operations/email-log').then((m) => m.EmailLogPage),
      },
      {
        path: 'emails/preferences',
        canActivate: [needs('notifications.manage')],
        loadComponent: () => import('./pages/operations/email-preferences').then((m) => m.EmailPreferencesPage),
      },
      {
        path: 'emails/:key/:locale',
        canActivate: [needs('notifications.manage')],
        loadComponent: () => import('./pages/operations/email-template').then((m) => m.EmailTemplatePage),
      },
      {
        path: 'audit-log',
        canActivate: [needs('audit.read')],
        loadComponent: () => import('./pages/operations/audit-log').then((m) => m.AuditLogPage),
      },
      {
        path: 'customers',
        canActivate: [needs('customers.read')],
        loadComponent: () => import('./pages/operations/customers').then((m) => m.CustomersPage),
      },
      {
        path: 'customers/:id',
        canActivate: [needs('customers.read')],
        loadComponent: () => import('./pages/operations/customer').then((m) => m.CustomerPage),
      },
      ...CATALOG_ROUTES,
      {
        path: 'inventory',
        canActivate: [needs('inventory.read')],
        loadChildren: () => import('./pages/inventory/routes').then((m) => m.INVENTORY_ROUTES),
      },
      {
        path: 'pricing',
        canActivate: [needs('pricing.read')],
        loadChildren: () => import('./pages/pricing/routes').then((m) => m.PRICING_ROUTES),
      },
      { path: 'account', loadComponent: () => import('./pages/my-account').then((m) => m.MyAccount) },
      { path: '**', loadComponent: () => import('./pages/not-found').then((m) => m.NotFound) },
    ],
  },
];
