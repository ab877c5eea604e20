import type { CustomerGroup } from 'shared';
import {
  domainsOf,
  groupForm,
  groupPatch,
  keyFrom,
  memberTarget,
  newGroupBody,
  withEmail,
  type CustomerSummary,
} from './customer-groups-support';

const GROUP: CustomerGroup = {
  id: 'g',
  name: 'Wholesale',
  key: 'wholesale',
  email_domains: ['acme.com'],
  member_count: 2,
  created_at: '',
  modified_at: '',
  version: 4,
};

describe('customer group keys', () => {
  it('suggests a key the API takes from the group’s name', () => {
    expect(keyFrom('Wholesale')).toBe('wholesale');
    expect(keyFrom('  Trade – B2B partners! ')).toBe('trade-b2b-partners');
    expect(keyFrom('Großkunden Österreich')).toBe('grosskunden-osterreich');
    expect(keyFrom('x'.repeat(39) + ' y')).toBe('x'.repeat(39));
    expect(keyFrom('¡!')).toBe('');
  });
});

describe('customer group forms', () => {
  it('reads email domains typed with commas, spaces and @', () => {
    expect(domainsOf(' @Acme.com, shop.de;acme.com\nb2b.example ')).toEqual(['acme.com', 'shop.de', 'b2b.example']);
    expect(domainsOf('  ')).toEqual([]);
  });

  it('builds a new group', () => {
    expect(newGroupBody({ name: ' Wholesale ', key: 'wholesale', domains: '' })).toEqual({
      name: 'Wholesale',
      key: 'wholesale',
      email_domains: [],
    });
  });

  it('sends only what changed', () => {
    expect(groupPatch(groupForm(GROUP), GROUP)).toEqual({});
    expect(groupPatch({ name: 'Trade', key: 'wholesale', domains: 'acme.com, @Shop.de' }, GROUP)).toEqual({
      name: 'Trade',
      email_domains: ['acme.com', 'shop.de'],
    });
    expect(groupPatch({ name: 'Wholesale', key: 'trade', domains: '' }, GROUP)).toEqual({
      key: 'trade',
      email_domains: [],
    });
  });
});

describe('adding a member', () => {
  it('takes a customer id or an email', () => {
    expect(memberTarget(' 0190A1B2-0000-7000-8000-000000000001 ')).toEqual({
      id: '0190a1b2-0000-7000-8000-000000000001',
    });
    expect(memberTarget('jo@acme.com')).toEqual({ email: 'jo@acme.com' });
    expect(memberTarget('jo')).toBeNull();
    expect(memberTarget('')).toBeNull();
  });

  it('finds the customer with exactly that email among those found', () => {
    const customer = (id: string, email: string | null, erased = false): CustomerSummary => ({
      id,
      email,
      erased,
      disabled: false,
      email_verified: true,
      created_at: '',
    });
    const found = [customer('1', 'jo.smith@acme.com'), customer('2', 'Jo@Acme.com'), customer('3', null, true)];
    expect(withEmail(found, 'jo@acme.com')?.id).toBe('2');
    expect(withEmail(found, 'jo@shop.de')).toBeNull();
  });
});
