import { problemSlug, type Cart, type Problem } from 'shared';

/** The pure logic of the cart's screens: reasons in words, the totals' lines, quantities. */

export type CartLine = Cart['lines'][number];
export type CartNotice = Cart['notices'][number];
export type ShippingOption = Cart['shipping']['options'][number];
export interface Money {
  amount: number;
  currency: string;
}
export type Translate = (key: string, params?: Record<string, string | number>) => string;

/** The reasons a code does not apply, as the API names them (`code-<reason>` or `<reason>`). */
const CODE_REASONS = [
  'unknown',
  'expired',
  'not-started',
  'exhausted',
  'customer-limit-reached',
  'minimum-not-met',
  'not-applicable',
  'not-for-your-group',
  'not-combinable',
];

/** Why a code does not apply, in words: from a problem's slug (`code-expired`) or a cart code's `reason`. */
export function codeReason(reason: string | null | undefined, t: Translate): string {
  const key = (reason ?? '').replace(/^code-/, '').replaceAll('_', '-');
  return t(CODE_REASONS.includes(key) ? `cart.code.${key}` : 'cart.code.not-applicable');
}

/** The first number in an English detail ("only 3 of this item can be bought" → 3). */
function numberIn(text: string | undefined): number | null {
  const match = /\d+/.exec(text ?? '');
  return match ? Number(match[0]) : null;
}

/**
 * A refused change in the shopper's words: the API's problem slug decides the text, the numbers
 * it names (what is left, the shop's limits) are taken from its detail.
 */
export function problemMessage(problem: Problem, t: Translate): string {
  const slug = problemSlug(problem);
  if (slug.startsWith('code-')) {
    return codeReason(slug, t);
  }
  const number = numberIn(problem.detail);
  switch (slug) {
    case 'not-for-sale':
      return t('cart.error.not-for-sale');
    case 'no-price':
      return t('cart.error.no-price');
    case 'not-enough-stock':
      return number ? t('cart.error.not-enough-stock', { available: number }) : t('cart.error.sold-out');
    case 'quantity-limit':
      return number === null ? t('cart.error.limit') : t('cart.error.quantity-limit', { max: number });
    case 'too-many-lines':
      return number === null ? t('cart.error.limit') : t('cart.error.too-many-lines', { max: number });
    case 'cart-not-found':
    case 'cart-line-not-found':
      return t('cart.error.gone');
    default:
      if (problem.status === 0) {
        return t('cart.error.offline');
      }
      if (problem.status === 422 && problem.errors?.some((e) => e.field === 'currency')) {
        return t('cart.error.currency');
      }
      return problem.detail || problem.title || t('cart.error.other');
  }
}

/** What is wrong with a line that counts in no total. */
export function lineProblem(line: CartLine, currency: string, t: Translate): string | null {
  switch (line.problem) {
    case 'unavailable':
      return t('cart.line.unavailable');
    case 'no_price':
      return t('cart.line.no-price', { currency });
    case 'not_enough_stock':
      return line.available ? t('cart.line.not-enough-stock', { available: line.available }) : t('cart.line.sold-out');
    default:
      return null;
  }
}

/** "Colour: Olive, Size: L". */
export function optionsText(line: Pick<CartLine, 'option_values'>): string {
  return Object.entries(line.option_values)
    .map(([name, value]) => `${name}: ${value}`)
    .join(', ');
}

/** What changed since the shopper last looked, one sentence per notice. */
export function noticeMessage(
  notice: CartNotice,
  cart: Pick<Cart, 'lines'>,
  t: Translate,
  format: (money: Money) => string,
): string {
  const line = cart.lines.find((l) => l.id === notice.line_id);
  const name = line?.name || t('cart.notice.an-item');
  switch (notice.kind) {
    case 'price_changed':
      return notice.previous && notice.current
        ? t('cart.notice.price-changed', { name, previous: format(notice.previous), current: format(notice.current) })
        : t('cart.notice.price-changed-plain', { name });
    case 'line_unavailable':
      return t('cart.notice.line-unavailable', { name });
    case 'not_enough_stock':
      return line?.available
        ? t('cart.notice.not-enough-stock', { name, available: line.available })
        : t('cart.notice.sold-out', { name });
    case 'code_no_longer_applies':
      return t('cart.notice.code', { code: notice.code ?? '', reason: codeReason(notice.reason, t) });
    case 'shipping_unavailable':
      return t('cart.notice.shipping');
  }
}

/**
 * A quantity the shopper typed: a whole number from 0 (which removes the line) up to a million,
 * or `null` when it is not one.
 */
export function parseQuantity(text: string | number | null | undefined): number | null {
  const trimmed = String(text ?? '').trim();
  if (!/^\d{1,7}$/.test(trimmed)) {
    return null;
  }
  const quantity = Number(trimmed);
  return quantity <= 1_000_000 ? quantity : null;
}

/** How long delivery takes, from a method's estimate in business days. */
export function deliveryTime(estimate: ShippingOption['estimate'], t: Translate): string {
  const min = estimate.min_days ?? null;
  const max = estimate.max_days ?? null;
  if (min !== null && max !== null) {
    return min === max ? t('cart.shipping.days', { days: min }) : t('cart.shipping.days-range', { min, max });
  }
  if (max !== null) return t('cart.shipping.days-up-to', { max });
  if (min !== null) return t('cart.shipping.days-from', { min });
  return '';
}

/** One line of the summary: a label and its amount (`null` when the line is a sentence). */
export interface TotalsLine {
  kind: 'subtotal' | 'discount' | 'shipping' | 'tax' | 'included' | 'note' | 'total';
  label: string;
  value: string | null;
}

/**
 * The summary as the shop's country expects it. Subtotal, each promotion (negative, its share of
 * shipping included), shipping before promotions; then either the tax added before the total (US style) or, under
 * the total, the tax a receipt shows inside the price ("incl. 19 % MwSt. 8,31 €", one line per
 * rate, not added). The total is the API's: what the shopper pays.
 */
export function totalsLines(
  cart: Pick<Cart, 'totals' | 'discounts' | 'shipping'>,
  t: Translate,
  format: (money: Money) => string,
  locale: string,
): TotalsLine[] {
  const totals = cart.totals;
  const lines: TotalsLine[] = [{ kind: 'subtotal', label: t('cart.totals.subtotal'), value: format(totals.subtotal) }];
  for (const discount of cart.discounts) {
    const amount = discount.amount.amount + (discount.shipping?.amount ?? 0);
    if (amount === 0) continue;
    lines.push({
      kind: 'discount',
      label: discount.code
        ? t('cart.totals.discount-code', { name: discount.name, code: discount.code })
        : discount.name,
      value: format({ amount: -amount, currency: discount.amount.currency }),
    });
  }
  if (cart.shipping.requires_shipping) {
    const price = cart.shipping.price;
    lines.push({
      kind: 'shipping',
      label: cart.shipping.pickup_location_id ? t('cart.totals.pickup') : t('cart.totals.shipping'),
      value: price ? (price.amount === 0 ? t('cart.totals.free') : format(price)) : t('cart.totals.shipping-later'),
    });
  }
  if (!totals.prices_include_tax) {
    lines.push({
      kind: 'tax',
      label: t('cart.totals.tax'),
      value: totals.tax_country ? format(totals.tax_total) : t('cart.totals.tax-later'),
    });
  }
  lines.push({ kind: 'total', label: t('cart.totals.total'), value: format(totals.total) });
  if (totals.prices_include_tax) {
    for (const tax of totals.taxes) {
      if (tax.amount.amount === 0) continue;
      lines.push({
        kind: 'included',
        label: t('cart.totals.tax-included', { percent: percent(tax.percent, locale), amount: format(tax.amount) }),
        value: null,
      });
    }
  }
  if (totals.reverse_charge) {
    lines.push({ kind: 'note', label: t('cart.totals.reverse-charge'), value: null });
  }
  return lines;
}

/** "19", "8,875": a rate as the shopper's language writes it. */
export function percent(value: string, locale: string): string {
  const number = Number(value);
  return Number.isFinite(number) ? new Intl.NumberFormat(locale, { maximumFractionDigits: 4 }).format(number) : value;
}
