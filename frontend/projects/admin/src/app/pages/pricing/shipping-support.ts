import { minorDigits, toDecimal, toMinor } from '../catalog/catalog-support';

/** One band as the merchant types it: a bound (grams or an order value) and a price. */
export interface BandRow {
  upTo: string;
  price: string;
}

export type RateKind = 'flat' | 'weight' | 'order_value';

/** A band as the API takes it: `up_to` in grams or minor units, the price as money. */
export interface BandBody {
  up_to?: number | null;
  price: { amount: number; currency: string };
}

/**
 * The bands the merchant typed, for the API. Rows left blank are dropped; a bound is grams for
 * weight bands and an amount of the currency for order-value bands; the last row may have no
 * bound (no upper limit). Returns the first row's problem instead when a number is unreadable.
 */
export function bandsBody(
  rows: readonly BandRow[],
  kind: RateKind,
  currency: string,
): { bands: BandBody[] } | { error: { index: number; field: 'up_to' | 'price' } } {
  const bands: BandBody[] = [];
  const filled = rows.filter((r) => r.upTo.trim() !== '' || r.price.trim() !== '');
  for (const [index, row] of filled.entries()) {
    const price = toMinor(row.price, currency);
    if (price === null || Number.isNaN(price)) return { error: { index, field: 'price' } };
    let upTo: number | null = null;
    if (row.upTo.trim() !== '') {
      upTo = kind === 'weight' ? Number(row.upTo.trim()) : toMinor(row.upTo, currency);
      if (upTo === null || !Number.isInteger(upTo)) return { error: { index, field: 'up_to' } };
    }
    bands.push({ up_to: upTo, price: { amount: price, currency } });
  }
  return { bands };
}

/** The method's bands as form rows (with one empty row to add to). */
export function bandRows(bands: readonly BandBody[], kind: RateKind): BandRow[] {
  const rows = bands.map((b) => ({
    upTo:
      b.up_to === null || b.up_to === undefined
        ? ''
        : kind === 'weight'
          ? String(b.up_to)
          : toDecimal(b.up_to, b.price.currency),
    price: toDecimal(b.price.amount, b.price.currency),
  }));
  return [...rows, { upTo: '', price: '' }];
}

/** Text fields holding lists ("DE, AT", "10000-14999, SW1*") as the API's arrays. */
export function listOf(text: string, upper = true): string[] {
  return text
    .split(/[,;\n]/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => (upper ? part.toUpperCase() : part));
}

/** `4.90 EUR`-style amount for the tables, with the currency's own decimals. */
export function amount(minor: number, currency: string): string {
  return `${(minor / 10 ** minorDigits(currency)).toFixed(minorDigits(currency))} ${currency}`;
}
