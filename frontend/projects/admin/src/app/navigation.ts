/** One entry of the admin's navigation and the permission it needs (none: every staff member). */
export interface Destination {
  path: string;
  label: string;
  permission: string | null;
  /** The label's translation key; without one the English label shows in every language. */
  key?: string;
}

/**
 * The admin's sections. The API checks every permission again on every request; hiding what a
 * member may not use keeps them from dead ends, it protects nothing.
 */
export const DESTINATIONS: readonly Destination[] = [
  { path: '/', label: 'Overview', permission: null, key: 'nav.overview' },
  { path: '/products', label: 'Products', permission: 'catalog.read', key: 'nav.products' },
  { path: '/categories', label: 'Categories', permission: 'catalog.read', key: 'nav.categories' },
  { path: '/collections', label: 'Collections', permission: 'catalog.read', key: 'nav.collections' },
  { path: '/product-types', label: 'Product types', permission: 'catalog.read', key: 'nav.product-types' },
  {
    path: '/catalog-settings',
    label: 'Currencies and search',
    permission: 'catalog.read',
    key: 'nav.catalog-settings',
  },
  { path: '/inventory', label: 'Inventory', permission: 'inventory.read', key: 'nav.inventory' },
  { path: '/pricing', label: 'Pricing and shipping', permission: 'pricing.read', key: 'nav.pricing' },
  { path: '/staff', label: 'Staff', permission: 'staff.manage', key: 'nav.staff' },
  { path: '/roles', label: 'Roles', permission: 'roles.manage', key: 'nav.roles' },
  { path: '/api-keys', label: 'API keys', permission: 'api_keys.manage', key: 'nav.api-keys' },
  { path: '/security', label: 'Security policy', permission: 'settings.manage', key: 'nav.security' },
  { path: '/shop-settings', label: 'Shop settings', permission: 'settings.manage', key: 'nav.shop-settings' },
  { path: '/single-sign-on', label: 'Single sign-on', permission: 'settings.manage', key: 'nav.single-sign-on' },
  { path: '/webhooks', label: 'Webhooks', permission: 'webhooks.manage', key: 'nav.webhooks' },
  { path: '/emails', label: 'Emails', permission: 'notifications.manage', key: 'nav.emails' },
  { path: '/audit-log', label: 'Audit log', permission: 'audit.read', key: 'nav.audit-log' },
  { path: '/customers', label: 'Customers', permission: 'customers.read', key: 'nav.customers' },
  { path: '/account', label: 'Your account', permission: null, key: 'nav.account' },
];

export function permitted(permissions: ReadonlySet<string>): Destination[] {
  return DESTINATIONS.filter((d) => d.permission === null || permissions.has(d.permission));
}
