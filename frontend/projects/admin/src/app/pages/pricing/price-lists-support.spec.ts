import type { Product } from 'shared';
import {
  dateRange,
  entryBody,
  entryForm,
  entryProblem,
  groupNames,
  isUuid,
  rateText,
  variantBySku,
  variantRef,
  wholeNumber,
} from './price-lists-support';

const ID = '0192f0c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f';

describe('price list entries', () => {
  it('names a variant by id when a UUID is typed, else by SKU', () => {
    expect(isUuid(ID)).toBe(true);
    expect(isUuid('LINEN-M')).toBe(false);
    expect(variantRef(` ${ID.toUpperCase()} `)).toEqual({ variant_id: ID });
    expect(variantRef(' LINEN-M ')).toEqual({ sku: 'LINEN-M' });
    expect(variantRef('  ')).toBeNull();
  });

  it('builds the entry in the list currency, blank tier rows dropped', () => {
    const body = entryBody(
      {
        variant: 'LINEN-M',
        price: '19,90',
        sale: true,
        tiers: [
          { minQuantity: '10', price: '17.50' },
          { minQuantity: '', price: '' },
        ],
      },
      'EUR',
    );
    expect(body).toEqual({
      entry: {
        sku: 'LINEN-M',
        price: { amount: 1990, currency: 'EUR' },
        sale: true,
        tiers: [{ min_quantity: 10, price: { amount: 1750, currency: 'EUR' } }],
      },
    });
    // A number input's value, as the form holds it once typed in.
    expect(
      entryBody({ variant: 'X', price: '5', sale: false, tiers: [{ minQuantity: 10, price: '4' }] }, 'EUR'),
    ).toEqual({
      entry: {
        sku: 'X',
        price: { amount: 500, currency: 'EUR' },
        sale: false,
        tiers: [{ min_quantity: 10, price: { amount: 400, currency: 'EUR' } }],
      },
    });
    expect(entryBody({ variant: 'X', price: '500', sale: false, tiers: [] }, 'JPY')).toEqual({
      entry: { sku: 'X', price: { amount: 500, currency: 'JPY' }, sale: false, tiers: [] },
    });
  });

  it('names the first field it cannot read', () => {
    const base = { variant: 'X', price: '1', sale: false, tiers: [] };
    expect(entryBody({ ...base, variant: ' ' }, 'EUR')).toEqual({ error: 'variant' });
    expect(entryBody({ ...base, price: 'free' }, 'EUR')).toEqual({ error: 'price' });
    expect(entryBody({ ...base, price: '' }, 'EUR')).toEqual({ error: 'price' });
    expect(entryBody({ ...base, tiers: [{ minQuantity: '2.5', price: '1' }] }, 'EUR')).toEqual({
      error: 'tiers[0].min_quantity',
    });
    expect(entryBody({ ...base, tiers: [{ minQuantity: '5', price: 'x' }] }, 'EUR')).toEqual({
      error: 'tiers[0].price',
    });
  });

  it('turns a stored entry back into the form, with an empty tier row to add to', () => {
    const form = entryForm({
      variant_id: ID,
      sku: 'LINEN-M',
      price: { amount: 1990, currency: 'EUR' },
      sale: false,
      tiers: [{ min_quantity: 10, price: { amount: 1750, currency: 'EUR' } }],
      modified_at: '2026-01-01T00:00:00Z',
    });
    expect(form).toEqual({
      variant: 'LINEN-M',
      price: '19.90',
      sale: false,
      tiers: [
        { minQuantity: '10', price: '17.50' },
        { minQuantity: '', price: '' },
      ],
    });
  });

  it('places the API’s messages about entries[0] at the form’s fields', () => {
    const problem = entryProblem({
      type: 'about:blank',
      title: 'Invalid',
      detail: 'entries[0].sku: no variant of the shop has this SKU',
      status: 422,
      errors: [
        { field: 'entries[0].sku', message: 'no variant of the shop has this SKU' },
        { field: 'entries[0].price.currency', message: "the list's currency, EUR" },
        { field: 'entries[0].tiers[1].min_quantity', message: 'rising' },
        { field: 'entries[0].tiers[1].price.amount', message: 'not negative' },
      ],
    });
    expect(problem?.errors?.map((e) => e.field)).toEqual([
      'variant',
      'price',
      'tiers[1].min_quantity',
      'tiers[1].price',
    ]);
    expect(problem?.detail).toBe('Invalid');
    expect(entryProblem(null)).toBeNull();
  });
});

describe('price list helpers', () => {
  it('finds a variant by its SKU in any case', () => {
    const products = [
      { variants: [{ id: 'a', sku: 'MUG-1' }] },
      { variants: [{ id: 'b', sku: 'Linen-M' }] },
    ] as unknown as Product[];
    expect(variantBySku(products, 'linen-m')).toEqual({ id: 'b', sku: 'Linen-M' });
    expect(variantBySku(products, 'nope')).toBeNull();
  });

  it('names groups it knows and keeps the ids of others', () => {
    expect(groupNames(['g1', 'g2'], [{ id: 'g1', name: 'Wholesale' }])).toEqual(['Wholesale', 'g2']);
  });

  it('reads conversion rates as positive decimals with up to six places', () => {
    expect(rateText(' 1,085 ')).toBe('1.085');
    expect(rateText('160')).toBe('160');
    expect(rateText('0.1234567')).toBeNull();
    expect(rateText('0')).toBeNull();
    expect(rateText('-1')).toBeNull();
    expect(rateText('abc')).toBeNull();
  });

  it('reads whole numbers, empty as none', () => {
    expect(wholeNumber('')).toBeNull();
    expect(wholeNumber(' 7 ')).toBe(7);
    expect(wholeNumber(-3)).toBe(-3);
    expect(wholeNumber('1.5')).toBe('bad');
  });

  it('says when something applies', () => {
    const t = (key: string, p?: Record<string, string | number>) => `${key} ${JSON.stringify(p ?? {})}`;
    expect(dateRange(null, null, t, 'en', 'x')).toBe('x.always {}');
    expect(dateRange('2026-06-01T00:00:00Z', null, t, 'en', 'x')).toContain('x.from');
    expect(dateRange(null, '2026-06-01T00:00:00Z', t, 'en', 'x')).toContain('x.until');
    expect(dateRange('2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z', t, 'en', 'x')).toContain('x.between');
  });
});
