import type { TaxClass, TaxZone } from 'shared';
import {
  ANY_PRODUCT,
  lineNumber,
  percentLabel,
  percentText,
  previewBody,
  rateSummaries,
  rateText,
  rateable,
  settingsBody,
  zoneBody,
  zoneForm,
} from './taxes-support';

const STANDARD = '00000000-0000-7000-8000-000000000001';
const REDUCED = '00000000-0000-7000-8000-000000000002';

function taxClass(id: string, name: string, kind: TaxClass['kind']): TaxClass {
  const at = '2026-01-01T00:00:00Z';
  return { id, name, kind, built_in: kind !== 'custom', created_at: at, modified_at: at, version: 1 };
}

const CLASSES = [
  taxClass(STANDARD, 'Standard', 'standard'),
  taxClass(REDUCED, 'Reduced', 'reduced'),
  taxClass('c0', 'Zero-rated', 'zero'),
  taxClass('c1', 'Exempt', 'exempt'),
  taxClass('c2', 'Books', 'custom'),
];

describe('tax percentages', () => {
  it('reads what merchants type as the API’s exact text', () => {
    expect(percentText('19')).toBe('19');
    expect(percentText(' 19 % ')).toBe('19');
    expect(percentText('7,5')).toBe('7.5');
    expect(percentText('8.8750')).toBe('8.875');
    expect(percentText('19.0')).toBe('19');
    expect(percentText('0')).toBe('0');
    expect(percentText('100')).toBe('100');
  });

  it('refuses what is no percentage from 0 to 100 with at most 4 decimals', () => {
    for (const typed of ['', 'x', '-1', '100.5', '250', '1.23456', '19.', '.5', '1e2']) {
      expect(percentText(typed), typed).toBeNull();
    }
  });

  it('labels a percentage in the admin’s language', () => {
    expect(percentLabel('8.875')).toBe('8.875 %');
    expect(percentLabel('8.875', 'de')).toBe('8,875 %');
  });

  it('adds the percentage to a rate’s name unless the name says it', () => {
    expect(rateText('VAT 19 %', '19')).toBe('VAT 19 %');
    expect(rateText('MwSt. 7,5%', '7.5', 'de')).toBe('MwSt. 7,5%');
    expect(rateText('NY State', '4')).toBe('NY State (4 %)');
    expect(rateText('County', '4.875', 'de')).toBe('County (4,875 %)');
  });
});

describe('tax zones', () => {
  it('builds the body of a zone, blank rate rows dropped', () => {
    const result = zoneBody({
      name: ' Germany ',
      country: 'de',
      region: '',
      postcodes: '',
      shippingTaxable: true,
      rates: [
        { classId: STANDARD, name: 'VAT 19 %', percent: '19' },
        { classId: STANDARD, name: '', percent: '' },
        { classId: REDUCED, name: 'VAT 7 %', percent: '7,0' },
      ],
    });
    expect(result).toEqual({
      body: {
        name: 'Germany',
        country: 'DE',
        region: null,
        postcodes: [],
        shipping_taxable: true,
        rates: [
          { tax_class_id: STANDARD, name: 'VAT 19 %', percent: '19' },
          { tax_class_id: REDUCED, name: 'VAT 7 %', percent: '7' },
        ],
      },
    });
  });

  it('names the row whose percentage it cannot read', () => {
    const result = zoneBody({
      name: 'New York',
      country: 'US',
      region: 'ny',
      postcodes: '10000-14999',
      shippingTaxable: false,
      rates: [
        { classId: STANDARD, name: '', percent: '' },
        { classId: STANDARD, name: 'NY State', percent: '4' },
        { classId: STANDARD, name: 'County', percent: 'four' },
      ],
    });
    expect(result).toEqual({ slip: { field: 'rates[2].percent', reason: 'percent' } });
  });

  it('turns a stored zone back into its form, with a row to add a rate', () => {
    const zone: TaxZone = {
      id: 'z',
      name: 'Germany',
      country: 'DE',
      region: null,
      postcodes: ['10115', '20*'],
      shipping_taxable: true,
      rates: [{ tax_class_id: REDUCED, name: 'VAT 7 %', percent: '7' }],
      created_at: '',
      modified_at: '',
      version: 3,
    };
    const form = zoneForm(zone, STANDARD);
    expect(form.postcodes).toBe('10115, 20*');
    expect(form.rates).toEqual([
      { classId: REDUCED, name: 'VAT 7 %', percent: '7' },
      { classId: STANDARD, name: '', percent: '' },
    ]);
    const summaries = rateSummaries(
      { ...zone, rates: [...zone.rates, { tax_class_id: STANDARD, name: 'VAT 19 %', percent: '19' }] },
      CLASSES,
    );
    expect(summaries).toEqual([
      { className: 'Standard', text: 'VAT 19 %' },
      { className: 'Reduced', text: 'VAT 7 %' },
    ]);
  });

  it('offers only classes that can carry a rate', () => {
    expect(rateable(CLASSES).map((c) => c.name)).toEqual(['Standard', 'Reduced', 'Books']);
  });
});

describe('tax settings', () => {
  it('sends a shipping class only when shipping is taxed as one', () => {
    const form = {
      pricesIncludeTax: true,
      crossBorder: 'keep_net' as const,
      rounding: 'per_line' as const,
      shippingTax: 'highest_rate' as const,
      shippingClassId: REDUCED,
      originCountry: ' de',
    };
    expect(settingsBody(form)).toEqual({
      prices_include_tax: true,
      cross_border: 'keep_net',
      rounding: 'per_line',
      shipping_tax: 'highest_rate',
      shipping_tax_class_id: null,
      origin_country: 'DE',
    });
    expect(settingsBody({ ...form, shippingTax: 'tax_class', originCountry: '' })).toEqual(
      expect.objectContaining({ shipping_tax_class_id: REDUCED, origin_country: null }),
    );
  });
});

describe('tax preview', () => {
  const form = {
    country: 'de',
    region: '',
    postalCode: ' 10115 ',
    currency: 'EUR',
    lines: [
      { amount: '119', productId: '' },
      { amount: '', productId: '' },
      { amount: '10,70', productId: 'p-1' },
    ],
    shipping: '4.90',
    customerId: '',
  };

  it('keys the lines by their row, taxing a line without a product as the standard class', () => {
    expect(previewBody(form)).toEqual({
      body: {
        destination: { country: 'DE', region: null, postal_code: '10115' },
        lines: [
          { key: 'line-1', product_id: ANY_PRODUCT, amount: { amount: 11900, currency: 'EUR' } },
          { key: 'line-3', product_id: 'p-1', amount: { amount: 1070, currency: 'EUR' } },
        ],
        shipping: { amount: 490, currency: 'EUR' },
        customer_id: null,
      },
    });
    expect(lineNumber('line-3')).toBe(3);
    expect(lineNumber('a-cart-line')).toBeNull();
  });

  it('names the amount or customer id it cannot read', () => {
    expect(previewBody({ ...form, lines: [{ amount: '1.999', productId: '' }] })).toEqual({
      slip: { field: 'lines[0].amount', reason: 'amount' },
    });
    expect(previewBody({ ...form, shipping: 'free' })).toEqual({ slip: { field: 'shipping', reason: 'amount' } });
    expect(previewBody({ ...form, customerId: 'jo@example.com' })).toEqual({
      slip: { field: 'customer_id', reason: 'uuid' },
    });
  });
});
