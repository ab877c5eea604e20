import type { CustomerGroup, Page_PriceListEntry_, PriceListEntriesInput, Problem, Product } from 'shared';
import { toDecimal, toMinor } from '../catalog/catalog-support';

/** A list's price for one variant, as the API lists it. */
export type Entry = Page_PriceListEntry_['items'][number];
/** One entry of a bulk upsert, as the API takes it. */
export type EntryInput = PriceListEntriesInput['entries'][number];

/** One quantity tier as the merchant types it. */
export interface TierRow {
  minQuantity: string | number;
  price: string;
}

/** The entry form: a variant (SKU or id), its price, whether it is a sale, and its tiers. */
export interface EntryForm {
  variant: string;
  price: string;
  sale: boolean;
  tiers: TierRow[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether the text is a UUID (a variant id), not a SKU. */
export function isUuid(text: string): boolean {
  return UUID.test(text.trim());
}

/** What the merchant typed in the variant field, as the API names a variant: by id or by SKU. */
export function variantRef(typed: string): { variant_id: string } | { sku: string } | null {
  const text = typed.trim();
  if (text === '') return null;
  return isUuid(text) ? { variant_id: text.toLowerCase() } : { sku: text };
}

/**
 * The entry the merchant typed, for the API: price and tiers in the list's currency, tier rows
 * left blank dropped. Returns the first field it cannot read instead (named as the form's
 * fields are: `variant`, `price`, `tiers[1].min_quantity`, `tiers[1].price`).
 */
export function entryBody(form: EntryForm, currency: string): { entry: EntryInput } | { error: string } {
  const ref = variantRef(form.variant);
  if (!ref) return { error: 'variant' };
  const price = toMinor(form.price, currency);
  if (price === null || Number.isNaN(price)) return { error: 'price' };
  const tiers: EntryInput['tiers'] = [];
  // A quantity input of type number holds a number once typed in.
  const text = (typed: string | number) => String(typed ?? '').trim();
  const filled = form.tiers.filter((t) => text(t.minQuantity) !== '' || text(t.price) !== '');
  for (const [i, row] of filled.entries()) {
    const min = text(row.minQuantity);
    if (!/^\d{1,9}$/.test(min)) return { error: `tiers[${i}].min_quantity` };
    const tierPrice = toMinor(row.price, currency);
    if (tierPrice === null || Number.isNaN(tierPrice)) return { error: `tiers[${i}].price` };
    tiers.push({ min_quantity: Number(min), price: { amount: tierPrice, currency } });
  }
  return { entry: { ...ref, price: { amount: price, currency }, sale: form.sale, tiers } };
}

/** A stored entry back in the form (with one empty tier row to add to). */
export function entryForm(entry: Entry): EntryForm {
  const currency = entry.price.currency;
  return {
    variant: entry.sku ?? entry.variant_id,
    price: toDecimal(entry.price.amount, currency),
    sale: entry.sale,
    tiers: [
      ...entry.tiers.map((t) => ({ minQuantity: String(t.min_quantity), price: toDecimal(t.price.amount, currency) })),
      { minQuantity: '', price: '' },
    ],
  };
}

/** An empty entry form. */
export function emptyEntry(): EntryForm {
  return { variant: '', price: '', sale: false, tiers: [{ minQuantity: '', price: '' }] };
}

/**
 * The API's problem about `entries[0]` as the entry form names its fields: the prefix dropped,
 * `sku` and `variant_id` both the variant field, an amount's or currency's message the price's
 * (and no detail, which lists the messages under the API's names).
 */
export function entryProblem(problem: Problem | null): Problem | null {
  if (!problem?.errors) return problem;
  const rename = (field: string) => {
    const own = field.replace(/^entries\[0\]\./, '');
    if (own === 'sku' || own === 'variant_id') return 'variant';
    return own.replace(/\.(amount|currency)$/, '');
  };
  // The detail repeats the messages under the API's names; they are shown at the fields instead.
  return { ...problem, detail: problem.title, errors: problem.errors.map((e) => ({ ...e, field: rename(e.field) })) };
}

/** The variant with this SKU (any case) among the products, if one has it. */
export function variantBySku(products: readonly Product[], sku: string): { id: string; sku: string } | null {
  const wanted = sku.trim().toLowerCase();
  for (const product of products) {
    const found = product.variants.find((v) => v.sku.toLowerCase() === wanted);
    if (found) return { id: found.id, sku: found.sku };
  }
  return null;
}

/** Customer group ids by their names where known (an id the page cannot name stays an id). */
export function groupNames(ids: readonly string[], groups: readonly Pick<CustomerGroup, 'id' | 'name'>[]): string[] {
  return ids.map((id) => groups.find((g) => g.id === id)?.name ?? id);
}

/** A conversion rate as the API takes it: a positive decimal with up to six places ("1.085"). */
export function rateText(typed: string): string | null {
  const text = typed.trim().replace(',', '.');
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(text) || Number(text) <= 0) return null;
  return text;
}

/** A whole number typed in a field (inputs of type number hold numbers once typed in). */
export function wholeNumber(typed: unknown): number | null | 'bad' {
  const text = String(typed ?? '').trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isInteger(n) ? n : 'bad';
}

/** When a list or promotion applies, for a table cell: "from … until …", or "always". */
export function dateRange(
  starts: string | null | undefined,
  ends: string | null | undefined,
  t: (key: string, params?: Record<string, string | number>) => string,
  locale: string,
  prefix: string,
): string {
  const at = (iso: string) => new Date(iso).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  if (starts && ends) return t(`${prefix}.between`, { from: at(starts), until: at(ends) });
  if (starts) return t(`${prefix}.from`, { from: at(starts) });
  if (ends) return t(`${prefix}.until`, { until: at(ends) });
  return t(`${prefix}.always`);
}
