import { Injectable, inject } from '@angular/core';
import {
  I18n,
  getVariantStock,
  listProducts,
  listStockLocations,
  outcome,
  type Location,
  type Problem,
  type Product,
  type VariantStock,
} from 'shared';
import { CatalogShop, pick } from '../catalog/catalog-support';

export { ifMatch } from '../catalog/catalog-support';

export type StockLevel = VariantStock['levels'][number];

/** The reasons staff may give for a change to on-hand stock (the others are the system's own). */
export const MANUAL_REASONS = ['counted', 'received', 'damaged', 'returned', 'correction'] as const;
export type ManualReason = (typeof MANUAL_REASONS)[number];

/** A variant as the inventory screens name it: its product, its option values and its SKU. */
export interface VariantRef {
  id: string;
  sku: string;
  /** `Linen shirt — Size M`. */
  label: string;
  productId: string;
}

/**
 * A fresh `Idempotency-Key` for one unsafe request: repeating that request (a double click, a
 * retry after a lost answer) replays the first answer instead of acting twice. Made from
 * `crypto.getRandomValues`, which also works on plain-HTTP origins where `randomUUID` does not.
 */
export function idempotencyKey(): { 'Idempotency-Key': string } {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return {
    'Idempotency-Key': `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

/** A problem made here, for input a form refuses before asking the API (shown like the API's). */
export function localProblem(field: string, message: string): Problem {
  return { type: 'about:blank', title: message, detail: message, status: 422, errors: [{ field, message }] };
}

/** The variants of catalog products as inventory rows, in the products' order. */
export function variantRefs(products: readonly Product[], locale: string, fallback = 'en'): VariantRef[] {
  return products.flatMap((product) => {
    const name = pick(product.name, locale, fallback) || product.id;
    return [...product.variants]
      .sort((a, b) => a.position - b.position)
      .map((variant) => {
        const options = Object.entries(variant.option_values)
          .map(([option, value]) => `${option} ${value}`)
          .join(', ');
        return {
          id: variant.id,
          sku: variant.sku,
          label: options ? `${name} — ${options}` : name,
          productId: product.id,
        };
      });
  });
}

/**
 * Variants whose product name or SKU contains `term`. The catalog's admin list filters by name;
 * SKUs are matched among the 100 most recently changed products, which is where a merchant
 * looking one up usually is.
 */
export function matchVariants(byName: readonly Product[], recent: readonly Product[], term: string, locale: string) {
  const needle = term.trim().toLowerCase();
  const named = variantRefs(byName, locale);
  const bySku = variantRefs(recent, locale).filter((v) => needle !== '' && v.sku.toLowerCase().includes(needle));
  const seen = new Set<string>();
  return [...bySku.filter((v) => v.sku.toLowerCase() === needle), ...named, ...bySku].filter((v) => {
    if (seen.has(v.id)) return false;
    seen.add(v.id);
    return true;
  });
}

// ---- the stock grid ----------------------------------------------------------------------------

/** A grid cell's key: one variant at one location. */
export function cellKey(variantId: string, locationId: string): string {
  return `${variantId}@${locationId}`;
}

/** A variant's level at a location; a location it was never counted at holds nothing. */
export function levelAt(stock: VariantStock | undefined, location: Pick<Location, 'id' | 'name'>): StockLevel {
  return (
    stock?.levels.find((l) => l.location_id === location.id) ?? {
      location_id: location.id,
      location_name: location.name,
      on_hand: 0,
      reserved: 0,
      safety_stock: 0,
      available: 0,
    }
  );
}

/** What was typed into an on-hand cell: a whole number ≥ 0, `null` when empty, NaN otherwise. */
export function parseCount(typed: string): number | null {
  const text = typed.trim();
  if (text === '') return null;
  return /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

export type CellCheck = 'invalid' | 'below-reserved' | null;

/** Whether a typed on-hand can be saved: a whole number, and not below what is reserved there. */
export function checkCell(typed: string, level: StockLevel): CellCheck {
  const count = parseCount(typed);
  if (count === null) return null;
  if (Number.isNaN(count)) return 'invalid';
  return count < level.reserved ? 'below-reserved' : null;
}

/** What would be available at the location once the typed count is saved. */
export function availableAfter(count: number, level: StockLevel): number {
  return Math.max(0, count - level.reserved - level.safety_stock);
}

/** A change the grid will send: the new on hand of one variant at one location. */
export interface PendingCount {
  key: string;
  variantId: string;
  locationId: string;
  from: number;
  to: number;
}

/**
 * The edited cells that change something, in grid order. Cells left empty or typed back to
 * their current value send nothing; a cell that cannot be saved stops the whole save (the
 * member fixes it first), so the result is either every change or the cells in error.
 */
export function pendingCounts(
  variants: readonly VariantRef[],
  locations: readonly Pick<Location, 'id' | 'name'>[],
  stocks: ReadonlyMap<string, VariantStock>,
  edits: Readonly<Record<string, string>>,
): { changes: PendingCount[]; errors: Record<string, CellCheck> } {
  const changes: PendingCount[] = [];
  const errors: Record<string, CellCheck> = {};
  for (const variant of variants) {
    for (const location of locations) {
      const key = cellKey(variant.id, location.id);
      const typed = edits[key];
      if (typed === undefined) continue;
      const level = levelAt(stocks.get(variant.id), location);
      const check = checkCell(typed, level);
      if (check) {
        errors[key] = check;
        continue;
      }
      const count = parseCount(typed);
      if (count !== null && count !== level.on_hand) {
        changes.push({ key, variantId: variant.id, locationId: location.id, from: level.on_hand, to: count });
      }
    }
  }
  return { changes, errors };
}

/** How a variant sells, in a word for the grid: untracked, or its policy beyond stock. */
export function sellingNote(
  stock: VariantStock | undefined,
  t: (key: string, p?: Record<string, string | number>) => string,
) {
  if (!stock) return '';
  const s = stock.settings;
  if (!s.tracked) return t('inventory.not-tracked');
  if (s.policy === 'backorder') {
    return s.backorder_limit === null || s.backorder_limit === undefined
      ? t('inventory.policy.backorder')
      : t('inventory.backorder-up-to', { count: s.backorder_limit });
  }
  if (s.policy === 'preorder') return t('inventory.policy.preorder');
  return '';
}

/** Minutes until an instant, rounded up; negative once it has passed. */
export function minutesLeft(iso: string, now: number = Date.now()): number {
  return Math.ceil((new Date(iso).getTime() - now) / 60_000);
}

/**
 * The inventory screens' lookups: the shop's locations and the labels of variants that API
 * answers name only by id (reservations, transfers). Loaded on first use, cached per visit.
 */
@Injectable({ providedIn: 'root' })
export class InventoryLookups {
  private readonly shop = inject(CatalogShop);
  private readonly i18n = inject(I18n);
  private readonly labels = new Map<string, Promise<string>>();

  async locations(): Promise<Location[]> {
    const result = await outcome(listStockLocations());
    return result.ok ? result.data.items : [];
  }

  /** Variants whose product name or SKU contains `term`. */
  async findVariants(term: string): Promise<{ variants: VariantRef[]; ok: boolean }> {
    await this.shop.ensureLoaded();
    const text = term.trim();
    const [byName, recent] = await Promise.all([
      text ? outcome(listProducts({ query: { name: text, limit: 25 } })) : Promise.resolve(null),
      outcome(listProducts({ query: { limit: 100, sort: '-modified_at' } })),
    ]);
    const named = byName?.ok ? byName.data.items : [];
    const latest = recent.ok ? recent.data.items : [];
    const locale = this.shop.defaultLocale();
    const variants = text ? matchVariants(named, latest, text, locale) : variantRefs(latest.slice(0, 10), locale);
    for (const v of variants) this.labels.set(v.id, Promise.resolve(v.sku));
    return { variants, ok: recent.ok && (byName === null || byName.ok) };
  }

  /** A variant's SKU for lists that carry only its id. */
  label(variantId: string): Promise<string> {
    let label = this.labels.get(variantId);
    if (!label) {
      label = outcome(getVariantStock({ path: { variant_id: variantId } })).then((r) =>
        r.ok ? r.data.sku : this.i18n.t('inventory.unknown-variant'),
      );
      this.labels.set(variantId, label);
    }
    return label;
  }
}
