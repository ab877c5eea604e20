import type { NewPromotion, Problem, Promotion, PromotionPatch } from 'shared';
import { fromLocalInput, toDecimal, toLocalInput, toMinor } from '../catalog/catalog-support';
import { amount } from './shipping-support';

export type DiscountKind = Promotion['discount']['kind'];
export type Discount = Promotion['discount'];
export const KINDS: readonly DiscountKind[] = ['percentage', 'fixed_amount', 'free_shipping', 'buy_x_get_y', 'tiered'];

type T = (key: string, params?: Record<string, string | number>) => string;

/** One step of a tiered discount as the merchant types it. */
export interface TierRow {
  threshold: string;
  currency: string;
  percent: string;
}

/** The promotion form, every field as typed. */
export interface PromotionForm {
  name: string;
  description: string;
  trigger: Promotion['trigger'];
  kind: DiscountKind;
  percent: string;
  /** Fixed amount off, per currency. */
  amounts: Record<string, string>;
  buyQuantity: string;
  getQuantity: string;
  /** Buy X get Y: how much off the Y items (100: free). */
  getPercent: string;
  tiers: TierRow[];
  productIds: string[];
  categoryIds: string[];
  collectionIds: string[];
  groupIds: string[];
  /** Minimum qualifying subtotal, per currency. */
  minimums: Record<string, string>;
  startsAt: string;
  endsAt: string;
  perCustomer: string;
  stacking: Promotion['stacking'];
  priority: string;
  status: Promotion['status'];
  /** Create only: a first code and how many orders it may be used for. */
  code: string;
  codeLimit: string;
}

export function emptyPromotion(currency: string): PromotionForm {
  return {
    name: '',
    description: '',
    trigger: 'code',
    kind: 'percentage',
    percent: '',
    amounts: {},
    buyQuantity: '',
    getQuantity: '',
    getPercent: '100',
    tiers: [{ threshold: '', currency, percent: '' }],
    productIds: [],
    categoryIds: [],
    collectionIds: [],
    groupIds: [],
    minimums: {},
    startsAt: '',
    endsAt: '',
    perCustomer: '',
    stacking: 'stackable',
    priority: '100',
    status: 'active',
    code: '',
    codeLimit: '',
  };
}

/** "10" or "12,5" percent as hundredths of a percent (1000, 1250); "" → null; unreadable → NaN. */
export function percentToBp(typed: string): number | null {
  const text = typed.trim().replace(',', '.').replace(/\s*%$/, '');
  if (text === '') return null;
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(text)) return Number.NaN;
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** Hundredths of a percent as the merchant reads them: 1000 → "10", 1250 → "12.5". */
export function bpToPercent(bp: number | null | undefined): string {
  if (bp === null || bp === undefined) return '';
  return String(bp / 100);
}

/** A whole number typed in a field: null when empty, NaN when not a whole number. */
function count(typed: string | number): number | null {
  const text = String(typed ?? '').trim();
  if (text === '') return null;
  return /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

/** What the API's lists of amounts were sent as, to place its answers about them. */
export interface Sent {
  amounts: string[];
  minimums: string[];
  tierRows: number[];
}

/** Why the form is refused before asking the API: the field, and what it expects. */
export interface FormError {
  field: string;
  expects: 'percent' | 'amount' | 'whole';
}

/**
 * The promotion the merchant typed, as the API takes it (a new one: `trigger` and a first code
 * included; a change leaves those out). Only the kind's own discount fields are sent; amounts
 * left empty are not sent. Returns the first field it cannot read instead.
 */
export function promotionBody(
  form: PromotionForm,
  currencies: readonly string[],
): { body: NewPromotion; sent: Sent } | { error: FormError } {
  const sent: Sent = { amounts: [], minimums: [], tierRows: [] };
  const discount: Discount = { kind: form.kind };
  const moneyList = (typed: Record<string, string>, field: string, order: string[]) => {
    const list: { amount: number; currency: string }[] = [];
    for (const currency of currencies) {
      const minor = toMinor(typed[currency] ?? '', currency);
      if (minor === null) continue;
      if (Number.isNaN(minor)) return { field: `${field}.${currency}`, expects: 'amount' } as FormError;
      list.push({ amount: minor, currency });
      order.push(currency);
    }
    return list;
  };
  if (form.kind === 'percentage') {
    const bp = percentToBp(form.percent);
    if (bp === null || Number.isNaN(bp)) return { error: { field: 'discount.percent_bp', expects: 'percent' } };
    discount.percent_bp = bp;
  } else if (form.kind === 'fixed_amount') {
    const amounts = moneyList(form.amounts, 'discount.amounts', sent.amounts);
    if (!Array.isArray(amounts)) return { error: amounts };
    discount.amounts = amounts;
  } else if (form.kind === 'buy_x_get_y') {
    const buy = count(form.buyQuantity);
    const get = count(form.getQuantity);
    if (buy === null || Number.isNaN(buy)) return { error: { field: 'discount.buy_quantity', expects: 'whole' } };
    if (get === null || Number.isNaN(get)) return { error: { field: 'discount.get_quantity', expects: 'whole' } };
    const bp = percentToBp(form.getPercent);
    if (Number.isNaN(bp)) return { error: { field: 'discount.percent_bp', expects: 'percent' } };
    discount.buy_quantity = buy;
    discount.get_quantity = get;
    discount.percent_bp = bp ?? 10_000;
  } else if (form.kind === 'tiered') {
    const tiers: NonNullable<Discount['tiers']> = [];
    for (const [row, tier] of form.tiers.entries()) {
      if (tier.threshold.trim() === '' && tier.percent.trim() === '') continue;
      const threshold = toMinor(tier.threshold, tier.currency);
      if (threshold === null || Number.isNaN(threshold)) {
        return { error: { field: `discount.tiers[${row}].threshold`, expects: 'amount' } };
      }
      const bp = percentToBp(tier.percent);
      if (bp === null || Number.isNaN(bp)) {
        return { error: { field: `discount.tiers[${row}].percent_bp`, expects: 'percent' } };
      }
      tiers.push({ threshold: { amount: threshold, currency: tier.currency }, percent_bp: bp });
      sent.tierRows.push(row);
    }
    discount.tiers = tiers;
  }
  const minimums = moneyList(form.minimums, 'conditions.minimum_subtotal', sent.minimums);
  if (!Array.isArray(minimums)) return { error: minimums };
  const perCustomer = count(form.perCustomer);
  if (Number.isNaN(perCustomer)) return { error: { field: 'usage_limit_per_customer', expects: 'whole' } };
  const priority = count(form.priority);
  if (Number.isNaN(priority)) return { error: { field: 'priority', expects: 'whole' } };
  const codeLimit = count(form.codeLimit);
  if (Number.isNaN(codeLimit)) return { error: { field: 'codes[0].usage_limit', expects: 'whole' } };
  const code = form.code.trim();
  const body: NewPromotion = {
    name: form.name.trim(),
    description: form.description.trim() || null,
    trigger: form.trigger,
    discount,
    conditions: {
      product_ids: form.productIds,
      category_ids: form.categoryIds,
      collection_ids: form.collectionIds,
      customer_group_ids: form.groupIds,
      minimum_subtotal: minimums,
    },
    starts_at: fromLocalInput(form.startsAt),
    ends_at: fromLocalInput(form.endsAt),
    usage_limit_per_customer: perCustomer,
    stacking: form.stacking,
    priority: priority ?? 100,
    status: form.status,
  };
  if (form.trigger === 'code' && code) body.codes = [{ code, usage_limit: codeLimit }];
  return { body, sent };
}

/** A change to a promotion: the new promotion's fields less the trigger and codes. */
export function patchOf(body: NewPromotion): PromotionPatch {
  const { trigger, codes, ...patch } = body;
  void trigger;
  void codes;
  return patch;
}

/** A stored promotion back in the form. */
export function promotionForm(p: Promotion, currency: string): PromotionForm {
  const d = p.discount;
  const byCurrency = (list: readonly { amount: number; currency: string }[] | null | undefined) =>
    Object.fromEntries((list ?? []).map((m) => [m.currency, toDecimal(m.amount, m.currency)]));
  const tiers = (d.tiers ?? []).map((t) => ({
    threshold: toDecimal(t.threshold.amount, t.threshold.currency),
    currency: t.threshold.currency,
    percent: bpToPercent(t.percent_bp),
  }));
  return {
    name: p.name,
    description: p.description ?? '',
    trigger: p.trigger,
    kind: d.kind,
    percent: d.kind === 'percentage' ? bpToPercent(d.percent_bp) : '',
    amounts: byCurrency(d.amounts),
    buyQuantity: d.buy_quantity ? String(d.buy_quantity) : '',
    getQuantity: d.get_quantity ? String(d.get_quantity) : '',
    getPercent: d.kind === 'buy_x_get_y' ? bpToPercent(d.percent_bp ?? 10_000) : '100',
    tiers: [...tiers, { threshold: '', currency, percent: '' }],
    productIds: [...p.conditions.product_ids],
    categoryIds: [...p.conditions.category_ids],
    collectionIds: [...p.conditions.collection_ids],
    groupIds: [...p.conditions.customer_group_ids],
    minimums: byCurrency(p.conditions.minimum_subtotal),
    startsAt: toLocalInput(p.starts_at),
    endsAt: toLocalInput(p.ends_at),
    perCustomer: p.usage_limit_per_customer ? String(p.usage_limit_per_customer) : '',
    stacking: p.stacking,
    priority: String(p.priority),
    status: p.status,
    code: '',
    codeLimit: '',
  };
}

/**
 * The API's problem with its list fields named as the form's inputs: an amount per currency
 * (`discount.amounts.EUR`, `conditions.minimum_subtotal.EUR`), a tier by its row
 * (`discount.tiers[2].threshold`), money fields without their `.amount` / `.currency`.
 */
export function placeProblem(problem: Problem, sent: Sent): Problem {
  if (!problem.errors) return problem;
  const rename = (field: string) => {
    let named = field
      .replace(/^discount\.amounts\[(\d+)\]/, (_, i) => `discount.amounts.${sent.amounts[+i] ?? i}`)
      .replace(
        /^conditions\.minimum_subtotal\[(\d+)\]/,
        (_, i) => `conditions.minimum_subtotal.${sent.minimums[+i] ?? i}`,
      )
      .replace(/^discount\.tiers\[(\d+)\]/, (_, i) => `discount.tiers[${sent.tierRows[+i] ?? i}]`);
    named = named.replace(/\.(amount|currency)$/, '');
    return named;
  };
  // The detail repeats the messages under the API's names; each is shown at its input instead.
  return { ...problem, detail: problem.title, errors: problem.errors.map((e) => ({ ...e, field: rename(e.field) })) };
}

/** What a discount takes off, in a few words: "10 % off", "Buy 2, get 1 free". */
export function discountSummary(d: Discount, t: T): string {
  const percent = (bp: number | null | undefined) => bpToPercent(bp ?? 0);
  switch (d.kind) {
    case 'percentage':
      return t('pricing.promotions.summary.percentage', { percent: percent(d.percent_bp) });
    case 'fixed_amount':
      return t('pricing.promotions.summary.fixed_amount', {
        amounts: (d.amounts ?? []).map((m) => amount(m.amount, m.currency)).join(' / '),
      });
    case 'free_shipping':
      return t('pricing.promotions.summary.free_shipping');
    case 'buy_x_get_y':
      return (d.percent_bp ?? 10_000) >= 10_000
        ? t('pricing.promotions.summary.buy_x_get_y_free', { buy: d.buy_quantity ?? 0, get: d.get_quantity ?? 0 })
        : t('pricing.promotions.summary.buy_x_get_y', {
            buy: d.buy_quantity ?? 0,
            get: d.get_quantity ?? 0,
            percent: percent(d.percent_bp),
          });
    case 'tiered':
      return (d.tiers ?? [])
        .map((tier) =>
          t('pricing.promotions.summary.tier', {
            threshold: amount(tier.threshold.amount, tier.threshold.currency),
            percent: percent(tier.percent_bp),
          }),
        )
        .join('; ');
  }
}

/** A code's use so far: "3 of 100", or "3 (no limit)". */
export function usage(used: number, limit: number | null | undefined, t: T): string {
  return limit === null || limit === undefined
    ? t('pricing.promotions.used-unlimited', { used })
    : t('pricing.promotions.used-of', { used, limit });
}

/** Toggles an id in a list of chosen ids. */
export function toggled(ids: readonly string[], id: string, on: boolean): string[] {
  const rest = ids.filter((i) => i !== id);
  return on ? [...rest, id] : rest;
}
