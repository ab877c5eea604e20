import type { Product, VariantStock } from 'shared';
import {
  availableAfter,
  cellKey,
  checkCell,
  idempotencyKey,
  levelAt,
  matchVariants,
  minutesLeft,
  parseCount,
  pendingCounts,
  sellingNote,
  variantRefs,
} from './inventory-support';
import { settingsBody } from './stock-settings';

const berlin = { id: 'berlin', name: 'Berlin' };
const hamburg = { id: 'hamburg', name: 'Hamburg' };

function stock(variant: string, levels: [string, number, number, number][], settings = {}): VariantStock {
  const full = levels.map(([location, on_hand, reserved, safety_stock]) => ({
    location_id: location,
    location_name: location,
    on_hand,
    reserved,
    safety_stock,
    available: Math.max(0, on_hand - reserved - safety_stock),
  }));
  return {
    variant_id: variant,
    sku: variant.toUpperCase(),
    settings: {
      tracked: true,
      policy: 'deny',
      backorder_limit: null,
      preorder_until: null,
      low_stock_threshold: null,
      ...settings,
    },
    levels: full,
    on_hand: full.reduce((n, l) => n + l.on_hand, 0),
    reserved: full.reduce((n, l) => n + l.reserved, 0),
    available: full.reduce((n, l) => n + l.available, 0),
    settings_version: 0,
  };
}

function product(id: string, name: string, variants: [string, string, Record<string, string>][]): Product {
  return {
    id,
    name: { en: name },
    variants: variants.map(([vid, sku, option_values], position) => ({ id: vid, sku, option_values, position })),
  } as unknown as Product;
}

describe('the stock grid', () => {
  const variants = [
    { id: 's', sku: 'S', label: 'Shirt — Size S', productId: 'p' },
    { id: 'm', sku: 'M', label: 'Shirt — Size M', productId: 'p' },
  ];
  const stocks = new Map([
    ['s', stock('s', [['berlin', 5, 2, 1]])],
    ['m', stock('m', [])],
  ]);

  it('shows a location a variant was never counted at as holding nothing', () => {
    expect(levelAt(stocks.get('m'), hamburg)).toEqual({
      location_id: 'hamburg',
      location_name: 'Hamburg',
      on_hand: 0,
      reserved: 0,
      safety_stock: 0,
      available: 0,
    });
    expect(levelAt(stocks.get('s'), berlin).available).toBe(2);
  });

  it('reads typed counts as whole numbers of 0 or more', () => {
    expect(parseCount(' 12 ')).toBe(12);
    expect(parseCount('')).toBeNull();
    expect(parseCount('-1')).toBeNaN();
    expect(parseCount('1.5')).toBeNaN();
    expect(parseCount('ten')).toBeNaN();
  });

  it('refuses a count below what is reserved at the location', () => {
    const level = levelAt(stocks.get('s'), berlin);
    expect(checkCell('1', level)).toBe('below-reserved');
    expect(checkCell('2', level)).toBeNull();
    expect(checkCell('x', level)).toBe('invalid');
    expect(checkCell('', level)).toBeNull();
  });

  it('previews what becomes available: on hand less reserved and safety stock, never below 0', () => {
    const level = levelAt(stocks.get('s'), berlin);
    expect(availableAfter(10, level)).toBe(7);
    expect(availableAfter(2, level)).toBe(0);
  });

  it('sends only the cells whose count changes, in grid order', () => {
    const edits = {
      [cellKey('m', 'hamburg')]: '4',
      [cellKey('s', 'berlin')]: '0',
      [cellKey('s', 'hamburg')]: '0',
      [cellKey('m', 'berlin')]: '',
    };
    const { changes, errors } = pendingCounts(variants, [berlin, hamburg], stocks, edits);
    expect(errors).toEqual({ [cellKey('s', 'berlin')]: 'below-reserved' });
    expect(changes).toEqual([{ key: cellKey('m', 'hamburg'), variantId: 'm', locationId: 'hamburg', from: 0, to: 4 }]);
  });

  it('counts a cell down to zero when nothing is reserved there', () => {
    const free = new Map([['s', stock('s', [['berlin', 5, 0, 0]])]]);
    const { changes, errors } = pendingCounts(variants.slice(0, 1), [berlin], free, { [cellKey('s', 'berlin')]: '0' });
    expect(errors).toEqual({});
    expect(changes.map((c) => [c.from, c.to])).toEqual([[5, 0]]);
  });

  it('says how a variant sells beyond its stock', () => {
    const t = (key: string, params?: Record<string, string | number>) =>
      `${key}${params ? JSON.stringify(params) : ''}`;
    expect(sellingNote(stock('a', []), t)).toBe('');
    expect(sellingNote(stock('a', [], { tracked: false }), t)).toBe('inventory.not-tracked');
    expect(sellingNote(stock('a', [], { policy: 'backorder', backorder_limit: 5 }), t)).toBe(
      'inventory.backorder-up-to{"count":5}',
    );
    expect(sellingNote(stock('a', [], { policy: 'preorder' }), t)).toBe('inventory.policy.preorder');
  });
});

describe('finding variants', () => {
  const shirt = product('p1', 'Linen shirt', [
    ['v2', 'LIN-M', { Size: 'M' }],
    ['v1', 'LIN-S', { Size: 'S' }],
  ]);
  const mug = product('p2', 'Mug', [['v3', 'MUG-1', {}]]);

  it('names variants by product and option values, in the product’s order', () => {
    const refs = variantRefs([shirt, mug], 'en');
    expect(refs.map((r) => [r.sku, r.label])).toEqual([
      ['LIN-M', 'Linen shirt — Size M'],
      ['LIN-S', 'Linen shirt — Size S'],
      ['MUG-1', 'Mug'],
    ]);
  });

  it('puts an exact SKU first, then name matches, then other SKU matches, each once', () => {
    const found = matchVariants([shirt], [mug, shirt], 'lin-s', 'en');
    expect(found.map((v) => v.sku)).toEqual(['LIN-S', 'LIN-M']);
    expect(matchVariants([], [mug, shirt], 'mug', 'en').map((v) => v.sku)).toEqual(['MUG-1']);
  });
});

describe('inventory helpers', () => {
  it('makes a new UUID v4 idempotency key each time', () => {
    const a = idempotencyKey()['Idempotency-Key'];
    const b = idempotencyKey()['Idempotency-Key'];
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });

  it('counts the minutes left until an expiry, rounded up', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    expect(minutesLeft('2026-12-02T10:14:01Z', now)).toBe(15);
    expect(minutesLeft('2026-12-02T09:59:00Z', now)).toBe(-1);
  });

  it('sends only the policy’s own limit with the selling rules', () => {
    const base = { tracked: true, backorder_limit: '5', preorder_until: '', low_stock_threshold: '3' };
    expect(settingsBody({ ...base, policy: 'deny' })).toEqual({
      body: { tracked: true, policy: 'deny', backorder_limit: null, preorder_until: null, low_stock_threshold: 3 },
    });
    expect(settingsBody({ ...base, policy: 'backorder' })).toEqual({
      body: { tracked: true, policy: 'backorder', backorder_limit: 5, preorder_until: null, low_stock_threshold: 3 },
    });
    expect(settingsBody({ ...base, policy: 'backorder', backorder_limit: '2.5' })).toEqual({
      field: 'backorder_limit',
    });
  });
});
