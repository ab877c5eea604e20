import type { CustomerGroup, CustomerGroupPatch, NewCustomerGroup, Page_CustomerSummary_ } from 'shared';

/** A customer as the shop's customer list gives them. */
export type CustomerSummary = Page_CustomerSummary_['items'][number];

/** A group as its form holds it (the domains typed with commas). */
export interface GroupForm {
  name: string;
  key: string;
  domains: string;
}

/** Who to add to a group, as the merchant typed it: a customer's id or their email. */
export type MemberTarget = { id: string } | { email: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The key a group's name suggests (`Trade – B2B partners` → `trade-b2b-partners`): lowercase
 * letters and digits joined by `-`, at most 40 characters, as the API takes keys.
 */
export function keyFrom(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

/** Email domains typed with commas, spaces or `@` (`@Acme.com, shop.de`) as the API's list. */
export function domainsOf(text: string): string[] {
  const domains = text
    .split(/[\s,;]+/)
    .map((d) => d.trim().replace(/^@+/, '').toLowerCase())
    .filter((d) => d !== '');
  return [...new Set(domains)];
}

export function groupForm(group: CustomerGroup): GroupForm {
  return { name: group.name, key: group.key, domains: group.email_domains.join(', ') };
}

export function newGroupBody(f: GroupForm): NewCustomerGroup {
  return { name: f.name.trim(), key: f.key.trim(), email_domains: domainsOf(f.domains) };
}

/** The changes to `group` the form holds (what stayed the same is left out, as PATCH allows). */
export function groupPatch(f: GroupForm, group: CustomerGroup): CustomerGroupPatch {
  const patch: CustomerGroupPatch = {};
  if (f.name.trim() !== group.name) patch.name = f.name.trim();
  if (f.key.trim() !== group.key) patch.key = f.key.trim();
  const domains = domainsOf(f.domains);
  const same = domains.length === group.email_domains.length && domains.every((d, i) => d === group.email_domains[i]);
  if (!same) patch.email_domains = domains;
  return patch;
}

/** A customer's id (any case) or an email; null for anything else. */
export function memberTarget(typed: string): MemberTarget | null {
  const text = typed.trim();
  if (UUID.test(text)) return { id: text.toLowerCase() };
  if (/^[^\s@]+@[^\s@]+$/.test(text)) return { email: text };
  return null;
}

/** The customer whose email is exactly `email` (any case) among those a search found. */
export function withEmail(customers: readonly CustomerSummary[], email: string): CustomerSummary | null {
  const wanted = email.trim().toLowerCase();
  return customers.find((c) => !c.erased && c.email?.toLowerCase() === wanted) ?? null;
}
