import { permitted } from './navigation';

describe('admin navigation', () => {
  it('shows a member only the sections their permissions open', () => {
    const paths = (granted: string[]) => permitted(new Set(granted)).map((d) => d.path);
    expect(paths([])).toEqual(['/', '/account']);
    expect(paths(['staff.manage'])).toEqual(['/', '/staff', '/account']);
    expect(paths(['staff.manage', 'roles.manage', 'api_keys.manage', 'settings.manage'])).toEqual([
      '/',
      '/staff',
      '/roles',
      '/api-keys',
      '/security',
      '/shop-settings',
      '/single-sign-on',
      '/account',
    ]);
    expect(paths(['webhooks.manage', 'notifications.manage', 'audit.read'])).toEqual([
      '/',
      '/webhooks',
      '/emails',
      '/audit-log',
      '/account',
    ]);
  });
});

describe('catalog navigation', () => {
  it('opens the catalog sections to members who may read the catalog', () => {
    const paths = permitted(new Set(['catalog.read'])).map((d) => d.path);
    expect(paths).toEqual([
      '/',
      '/products',
      '/categories',
      '/collections',
      '/product-types',
      '/catalog-settings',
      '/account',
    ]);
  });
});

describe('inventory navigation', () => {
  it('opens the inventory section to members who may read stock, after the catalog', () => {
    expect(permitted(new Set(['inventory.read'])).map((d) => d.path)).toEqual(['/', '/inventory', '/account']);
    const both = permitted(new Set(['catalog.read', 'inventory.read', 'inventory.manage'])).map((d) => d.path);
    expect(both.indexOf('/inventory')).toBe(both.indexOf('/catalog-settings') + 1);
  });
});
