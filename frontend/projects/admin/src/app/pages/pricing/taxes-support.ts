import type { TaxClass, TaxQuery, TaxSettings, TaxZone, TaxZoneInput } from 'shared';
import { toDecimal, toMinor } from '../catalog/catalog-support';
import { listOf } from './shipping-support';

/** A rate of a zone as the merchant types it: the class it taxes, its receipt name, a percentage. */
export interface RateRow {
  classId: string;
  name: string;
  percent: string;
}

/** A zone as its form holds it (lists typed with commas). */
export interface ZoneForm {
  name: string;
  country: string;
  region: string;
  postcodes: string;
  shippingTaxable: boolean;
  rates: RateRow[];
}

/** The settings as their form holds them (the origin typed, the shipping class chosen or ''). */
export interface SettingsForm {
  pricesIncludeTax: boolean;
  crossBorder: TaxSettings['cross_border'];
  rounding: TaxSettings['rounding'];
  shippingTax: TaxSettings['shipping_tax'];
  shippingClassId: string;
  originCountry: string;
}

/** One line of the basket to try: an amount and, optionally, the product it is for. */
export interface PreviewLine {
  amount: string;
  productId: string;
}

export interface PreviewForm {
  country: string;
  region: string;
  postalCode: string;
  currency: string;
  lines: PreviewLine[];
  shipping: string;
  customerId: string;
}

/** Where a typed value could not be read: the API's name for the field. */
export interface FieldSlip {
  field: string;
  reason: 'percent' | 'amount' | 'uuid';
}

/**
 * The product a preview line without a chosen product is taxed as. No product has this id, and
 * a product without a class of its own is taxed as the standard class, so the line is too.
 */
export const ANY_PRODUCT = '00000000-0000-0000-0000-000000000000';

/** Classes a zone can give a rate to: zero-rated and exempt classes carry none. */
export function rateable(classes: readonly TaxClass[]): TaxClass[] {
  return classes.filter((c) => c.kind !== 'zero' && c.kind !== 'exempt');
}

/**
 * A percentage as the API takes it ("19", "8.875"), from what the merchant typed ("19 %",
 * "7,5"): null when it is not one from 0 to 100 with at most 4 decimals.
 */
export function percentText(typed: string): string | null {
  const text = typed.trim().replace(/\s*%$/, '').replace(',', '.').trim();
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(text)) return null;
  const [whole, fraction] = text.split('.');
  const value = Number(text);
  if (value > 100) return null;
  const cleanWhole = String(Number(whole));
  const cleanFraction = (fraction ?? '').replace(/0+$/, '');
  return cleanFraction ? `${cleanWhole}.${cleanFraction}` : cleanWhole;
}

/** "19" → "19 %", "8.875" → "8.875 %" (German uses a decimal comma: "8,875 %"). */
export function percentLabel(percent: string, locale = 'en'): string {
  const text = locale === 'de' ? percent.replace('.', ',') : percent;
  return `${text} %`;
}

/**
 * A rate as a receipt line names it: its name, with the percentage after it unless the name
 * already says it ("VAT 19 %" stays; "NY State" → "NY State (4 %)").
 */
export function rateText(name: string, percent: string, locale = 'en'): string {
  const label = percentLabel(percent, locale);
  const compact = (text: string) => text.replace(/\s+/g, '').replace(',', '.');
  return compact(name).includes(compact(`${percent}%`)) ? name : `${name} (${label})`;
}

/**
 * The rates the merchant typed, for the API. Rows left blank (no name, no percentage) are
 * dropped; the first percentage that cannot be read is returned instead, named by its row in
 * the form (`rates[2].percent`).
 */
export function ratesBody(rows: readonly RateRow[]): { rates: TaxZoneInput['rates'] } | { slip: FieldSlip } {
  const rates: NonNullable<TaxZoneInput['rates']> = [];
  for (const [index, row] of rows.entries()) {
    if (row.name.trim() === '' && row.percent.trim() === '') continue;
    const percent = percentText(row.percent);
    if (percent === null) return { slip: { field: `rates[${index}].percent`, reason: 'percent' } };
    rates.push({ tax_class_id: row.classId, name: row.name.trim(), percent });
  }
  return { rates };
}

/** The zone the form holds, for `POST` or `PUT`, or the first value it cannot read. */
export function zoneBody(form: ZoneForm): { body: TaxZoneInput } | { slip: FieldSlip } {
  const rates = ratesBody(form.rates);
  if ('slip' in rates) return rates;
  return {
    body: {
      name: form.name.trim(),
      country: form.country.trim().toUpperCase(),
      region: form.region.trim().toUpperCase() || null,
      postcodes: listOf(form.postcodes),
      shipping_taxable: form.shippingTaxable,
      rates: rates.rates,
    },
  };
}

/** An empty zone form, with one rate row for the standard class to fill in. */
export function emptyZone(standardId: string): ZoneForm {
  return {
    name: '',
    country: '',
    region: '',
    postcodes: '',
    shippingTaxable: true,
    rates: [{ classId: standardId, name: '', percent: '' }],
  };
}

/** A stored zone as its form (with an empty rate row to add to). */
export function zoneForm(zone: TaxZone, standardId: string): ZoneForm {
  return {
    name: zone.name,
    country: zone.country,
    region: zone.region ?? '',
    postcodes: zone.postcodes.join(', '),
    shippingTaxable: zone.shipping_taxable,
    rates: [
      ...zone.rates.map((r) => ({ classId: r.tax_class_id, name: r.name, percent: r.percent })),
      { classId: standardId, name: '', percent: '' },
    ],
  };
}

export function settingsForm(s: TaxSettings): SettingsForm {
  return {
    pricesIncludeTax: s.prices_include_tax,
    crossBorder: s.cross_border,
    rounding: s.rounding,
    shippingTax: s.shipping_tax,
    shippingClassId: s.shipping_tax_class_id ?? '',
    originCountry: s.origin_country ?? '',
  };
}

/** The settings for `PUT`: a shipping class only when shipping is taxed as one. */
export function settingsBody(f: SettingsForm): TaxSettings {
  return {
    prices_include_tax: f.pricesIncludeTax,
    cross_border: f.crossBorder,
    rounding: f.rounding,
    shipping_tax: f.shippingTax,
    shipping_tax_class_id: f.shippingTax === 'tax_class' ? f.shippingClassId || null : null,
    origin_country: f.originCountry.trim().toUpperCase() || null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text.trim());
}

/**
 * The basket to tax, for the preview: lines keyed `line-1`, `line-2`… (so the answer's lines
 * can be matched to the rows), blank lines dropped, a line without a product taxed as
 * {@link ANY_PRODUCT}. Returns the first value it cannot read instead.
 */
export function previewBody(f: PreviewForm): { body: TaxQuery } | { slip: FieldSlip } {
  const lines: TaxQuery['lines'] = [];
  for (const [index, line] of f.lines.entries()) {
    if (line.amount.trim() === '') continue;
    const minor = toMinor(line.amount, f.currency);
    if (minor === null || Number.isNaN(minor)) return { slip: { field: `lines[${index}].amount`, reason: 'amount' } };
    lines.push({
      key: `line-${index + 1}`,
      product_id: line.productId || ANY_PRODUCT,
      amount: { amount: minor, currency: f.currency },
    });
  }
  const shipping = toMinor(f.shipping, f.currency);
  if (shipping !== null && Number.isNaN(shipping)) return { slip: { field: 'shipping', reason: 'amount' } };
  const customer = f.customerId.trim();
  if (customer && !isUuid(customer)) return { slip: { field: 'customer_id', reason: 'uuid' } };
  return {
    body: {
      destination: {
        country: f.country.trim().toUpperCase(),
        region: f.region.trim().toUpperCase() || null,
        postal_code: f.postalCode.trim() || null,
      },
      lines,
      shipping: shipping === null ? null : { amount: shipping, currency: f.currency },
      customer_id: customer || null,
    },
  };
}

/** The row number a preview answer's line key (`line-2`) names, or null for another key. */
export function lineNumber(key: string): number | null {
  const match = /^line-(\d+)$/.exec(key);
  return match ? Number(match[1]) : null;
}

/** The zone's rates for the table ("Standard: VAT 19 %"), one per rate, in the classes' order. */
export function rateSummaries(
  zone: TaxZone,
  classes: readonly TaxClass[],
  locale = 'en',
): { className: string; text: string }[] {
  const order = new Map(classes.map((c, i) => [c.id, i]));
  const nameOf = new Map(classes.map((c) => [c.id, c.name]));
  return [...zone.rates]
    .sort((a, b) => (order.get(a.tax_class_id) ?? 999) - (order.get(b.tax_class_id) ?? 999))
    .map((r) => ({
      className: nameOf.get(r.tax_class_id) ?? r.tax_class_id,
      text: rateText(r.name, r.percent, locale),
    }));
}

/** An amount for the preview's table: "11.90 EUR". */
export function money(value: { amount: number; currency: string }): string {
  return `${toDecimal(value.amount, value.currency)} ${value.currency}`;
}
