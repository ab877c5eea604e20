/** One entry of the admin's navigation and the permission it needs (none: every staff member). */
export interface Destination {
  path: string;
  label: string;
  permission: string | null;
}

/**
 * The admin's sections. The API checks every permission again on every request; hiding what a
 * member may not use keeps them from dead ends, it protects nothing.
 */
export const DESTINATIONS: readonly Destination[] = [
  { path: '/', label: 'Overview', permission: null },
  { path: '/staff', label: 'Staff', permission: 'staff.manage' },
  { path: '/roles', label: 'Roles', permission: 'roles.manage' },
  { path: '/api-keys', label: 'API keys', permission: 'api_keys.manage' },
  { path: '/security', label: 'Security policy', permission: 'settings.manage' },
  { path: '/account', label: 'Your account', permission: null },
];

export function permitted(permissions: ReadonlySet<string>): Destination[] {
  return DESTINATIONS.filter((d) => d.permission === null || permissions.has(d.permission));
}
