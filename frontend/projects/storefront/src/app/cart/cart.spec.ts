import { TestBed } from '@angular/core/testing';
import { I18n, client, type Cart, type Problem } from 'shared';
import { Customer } from '../customer';
import { CartState } from './cart';
import {
  codeReason,
  deliveryTime,
  lineProblem,
  noticeMessage,
  optionsText,
  parseQuantity,
  problemMessage,
  totalsLines,
  type CartLine,
  type Money,
} from './cart-support';
import { CART_TEXTS } from './translations';

const t = (key: string, params?: Record<string, string | number>) =>
  params ? `${key} ${JSON.stringify(params)}` : key;
const usd = (amount: number): Money => ({ amount, currency: 'USD' });
const eur = (amount: number): Money => ({ amount, currency: 'EUR' });
const plain = (money: Money) => `${money.amount} ${money.currency}`;

function problem(slug: string, detail = '', field?: string, status = 422): Problem {
  return {
    type: `https://agora.dev/problems/${slug}`,
    title: 'Unprocessable Entity',
    status,
    detail,
    errors: field ? [{ field, message: detail }] : undefined,
  };
}

function line(overrides: Partial<CartLine> = {}): CartLine {
  return {
    id: 'l1',
    variant_id: 'v1',
    name: 'Dune Plate Set',
    option_values: { Colour: 'Olive' },
    quantity: 2,
    unit_price: eur(1599),
    line_total: eur(3198),
    ...overrides,
  };
}

function cart(overrides: Partial<Cart> = {}, totals: Partial<Cart['totals']> = {}): Cart {
  return {
    id: 'c1',
    currency: 'EUR',
    locale: 'de',
    customer_cart: false,
    item_count: 2,
    lines: [line()],
    codes: [],
    discounts: [],
    notices: [],
    shipping: {
      requires_shipping: true,
      options: [],
      pickup_locations: [],
    },
    totals: {
      subtotal: eur(3198),
      discount_total: eur(0),
      shipping_total: eur(0),
      tax_total: eur(511),
      total: eur(3198),
      taxes: [{ name: 'VAT 19 %', percent: '19', rate_ppm: 190000, amount: eur(511) }],
      prices_include_tax: true,
      tax_country: 'DE',
      reverse_charge: false,
      ...totals,
    },
    version: 1,
    modified_at: '2026-12-02T12:00:00Z',
    expires_at: '2026-12-05T12:00:00Z',
    ...overrides,
  };
}

describe('cart texts', () => {
  it('has every English text in German too, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(CART_TEXTS.en)) {
      expect(CART_TEXTS.de[key], key).toBeTruthy();
      expect(placeholders(CART_TEXTS.de[key]), key).toEqual(placeholders(english));
    }
    expect(Object.keys(CART_TEXTS.de).sort()).toEqual(Object.keys(CART_TEXTS.en).sort());
  });

  it('has a text for every reason a code is refused', () => {
    for (const reason of [
      'unknown',
      'expired',
      'not_started',
      'exhausted',
      'customer_limit_reached',
      'minimum_not_met',
      'not_applicable',
      'not_for_your_group',
      'not_combinable',
    ]) {
      const key = codeReason(reason, (k) => k);
      expect(CART_TEXTS.en[key], reason).toBeTruthy();
      expect(key, reason).toBe(`cart.code.${reason.replaceAll('_', '-')}`);
    }
  });
});

describe('a refusal in words', () => {
  it('names why a code is refused, from the problem type', () => {
    expect(problemMessage(problem('code-unknown', 'the code NOPE cannot be used: unknown', 'code'), t)).toBe(
      'cart.code.unknown',
    );
    expect(problemMessage(problem('code-minimum-not-met', '', 'code'), t)).toBe('cart.code.minimum-not-met');
    expect(problemMessage(problem('code-something-new', '', 'code'), t)).toBe('cart.code.not-applicable');
  });

  it('says how many are left or what the shop allows, from the detail', () => {
    expect(problemMessage(problem('not-enough-stock', 'only 10 of this item can be bought', 'quantity'), t)).toBe(
      'cart.error.not-enough-stock {"available":10}',
    );
    expect(problemMessage(problem('not-enough-stock', 'only 0 of this item can be bought', 'quantity'), t)).toBe(
      'cart.error.sold-out',
    );
    expect(problemMessage(problem('quantity-limit', 'at most 99 of one item per cart', 'quantity'), t)).toBe(
      'cart.error.quantity-limit {"max":99}',
    );
    expect(problemMessage(problem('too-many-lines', 'a cart holds at most 100 different items'), t)).toBe(
      'cart.error.too-many-lines {"max":100}',
    );
  });

  it('translates the other reasons and keeps an unknown problem’s own words', () => {
    expect(problemMessage(problem('not-for-sale', 'this item cannot be bought', 'variant_id'), t)).toBe(
      'cart.error.not-for-sale',
    );
    expect(problemMessage(problem('no-price', 'this item has no price in EUR', 'variant_id'), t)).toBe(
      'cart.error.no-price',
    );
    expect(problemMessage(problem('cart-line-not-found', 'no such line', undefined, 404), t)).toBe('cart.error.gone');
    expect(problemMessage({ type: 'about:blank', title: 'unreachable', status: 0, detail: 'try again' }, t)).toBe(
      'cart.error.offline',
    );
    expect(problemMessage(problem('rate-limited', 'slow down', undefined, 429), t)).toBe('slow down');
  });
});

describe('lines and notices', () => {
  it('says what is wrong with a line that counts in no total', () => {
    expect(lineProblem(line(), 'EUR', t)).toBeNull();
    expect(lineProblem(line({ problem: 'unavailable' }), 'EUR', t)).toBe('cart.line.unavailable');
    expect(lineProblem(line({ problem: 'no_price' }), 'EUR', t)).toBe('cart.line.no-price {"currency":"EUR"}');
    expect(lineProblem(line({ problem: 'not_enough_stock', available: 3 }), 'EUR', t)).toBe(
      'cart.line.not-enough-stock {"available":3}',
    );
    expect(lineProblem(line({ problem: 'not_enough_stock', available: 0 }), 'EUR', t)).toBe('cart.line.sold-out');
  });

  it('lists the options of a line', () => {
    expect(optionsText(line({ option_values: { Colour: 'Olive', Size: 'L' } }))).toBe('Colour: Olive, Size: L');
    expect(optionsText(line({ option_values: {} }))).toBe('');
  });

  it('tells each notice with the line’s name and amounts', () => {
    const c = cart({ lines: [line({ available: 1 })] });
    expect(
      noticeMessage({ kind: 'price_changed', line_id: 'l1', previous: eur(1599), current: eur(1799) }, c, t, plain),
    ).toBe('cart.notice.price-changed {"name":"Dune Plate Set","previous":"1599 EUR","current":"1799 EUR"}');
    expect(noticeMessage({ kind: 'line_unavailable', line_id: 'l1' }, c, t, plain)).toBe(
      'cart.notice.line-unavailable {"name":"Dune Plate Set"}',
    );
    expect(noticeMessage({ kind: 'not_enough_stock', line_id: 'l1' }, c, t, plain)).toBe(
      'cart.notice.not-enough-stock {"name":"Dune Plate Set","available":1}',
    );
    expect(noticeMessage({ kind: 'code_no_longer_applies', code: 'SUMMER10', reason: 'expired' }, c, t, plain)).toBe(
      'cart.notice.code {"code":"SUMMER10","reason":"cart.code.expired"}',
    );
    expect(noticeMessage({ kind: 'shipping_unavailable' }, c, t, plain)).toBe('cart.notice.shipping');
  });
});

describe('quantities and delivery times', () => {
  it('reads whole numbers only', () => {
    expect(parseQuantity('3')).toBe(3);
    expect(parseQuantity(' 12 ')).toBe(12);
    expect(parseQuantity('0')).toBe(0);
    expect(parseQuantity(4)).toBe(4);
    for (const bad of ['', ' ', '-1', '2.5', '1e3', 'two', '10000000', null, undefined]) {
      expect(parseQuantity(bad), String(bad)).toBeNull();
    }
  });

  it('says how long delivery takes', () => {
    expect(deliveryTime({ min_days: 1, max_days: 3 }, t)).toBe('cart.shipping.days-range {"min":1,"max":3}');
    expect(deliveryTime({ min_days: 2, max_days: 2 }, t)).toBe('cart.shipping.days {"days":2}');
    expect(deliveryTime({ max_days: 5 }, t)).toBe('cart.shipping.days-up-to {"max":5}');
    expect(deliveryTime({ min_days: 4, max_days: null }, t)).toBe('cart.shipping.days-from {"min":4}');
    expect(deliveryTime({}, t)).toBe('');
  });
});

describe('the totals', () => {
  const i18n = () => {
    const service = TestBed.inject(I18n);
    service.register(CART_TEXTS);
    return service;
  };
  const euros = (locale: string) => (money: Money) =>
    new Intl.NumberFormat(locale, { style: 'currency', currency: money.currency })
      .format(money.amount / 100)
      .replace(/\s/g, ' ');

  it('shows the VAT inside the prices, as a German receipt does, and does not add it', () => {
    const texts = i18n();
    texts.use('de');
    const discounted = cart(
      {
        discounts: [{ promotion_id: 'p1', name: 'Summer 10', code: 'SUMMER10', amount: eur(320) }],
        codes: [{ code: 'SUMMER10', applied: true }],
      },
      {
        discount_total: eur(320),
        tax_total: eur(460),
        total: eur(2878),
        taxes: [{ name: 'VAT 19 %', percent: '19', rate_ppm: 190000, amount: eur(460) }],
      },
    );
    const lines = totalsLines(discounted, (k, p) => texts.t(k, p), euros('de'), 'de');
    expect(lines.map((l) => [l.kind, l.label, l.value])).toEqual([
      ['subtotal', 'Zwischensumme', '31,98 €'],
      ['discount', 'Summer 10 (SUMMER10)', '-3,20 €'],
      ['shipping', 'Versand', 'unten wählen'],
      ['total', 'Gesamtsumme', '28,78 €'],
      ['included', 'inkl. 19 % MwSt. 4,60 €', null],
    ]);
    texts.use('en');
    const english = totalsLines(discounted, (k, p) => texts.t(k, p), euros('en'), 'en');
    expect(english.find((l) => l.kind === 'included')?.label).toBe('Includes VAT 19 %: €4.60');
  });

  it('adds the tax before the total where prices are net (US style)', () => {
    const texts = i18n();
    texts.use('en');
    const net = cart(
      {
        currency: 'USD',
        lines: [line({ unit_price: usd(1000), line_total: usd(2000) })],
        shipping: {
          requires_shipping: true,
          options: [],
          pickup_locations: [],
          method_id: 'm1',
          price: usd(500),
          destination: { country: 'US', region: 'NY' },
        },
      },
      {
        subtotal: usd(2000),
        discount_total: usd(0),
        shipping_total: usd(500),
        tax_total: usd(222),
        total: usd(2722),
        taxes: [{ name: 'Sales tax', percent: '8.875', rate_ppm: 88750, amount: usd(222) }],
        prices_include_tax: false,
        tax_country: 'US',
      },
    );
    const lines = totalsLines(net, (k, p) => texts.t(k, p), euros('en'), 'en');
    expect(lines.map((l) => [l.kind, l.label, l.value])).toEqual([
      ['subtotal', 'Subtotal', '$20.00'],
      ['shipping', 'Shipping', '$5.00'],
      ['tax', 'Tax', '$2.22'],
      ['total', 'Total', '$27.22'],
    ]);
  });

  it('counts free shipping in its promotion and says when tax is not known yet', () => {
    const texts = i18n();
    texts.use('en');
    const free = cart(
      {
        discounts: [{ promotion_id: 'p2', name: 'Free delivery', amount: eur(0), shipping: eur(490) }],
        shipping: {
          requires_shipping: true,
          options: [],
          pickup_locations: [],
          method_id: 'm1',
          price: eur(490),
          destination: { country: 'DE' },
        },
      },
      { prices_include_tax: false, tax_country: null, taxes: [], tax_total: eur(0), reverse_charge: true },
    );
    const lines = totalsLines(free, (k, p) => texts.t(k, p), euros('en'), 'en');
    expect(lines.map((l) => [l.kind, l.label, l.value])).toEqual([
      ['subtotal', 'Subtotal', '€31.98'],
      ['discount', 'Free delivery', '-€4.90'],
      ['shipping', 'Shipping', '€4.90'],
      ['tax', 'Tax', 'worked out at checkout'],
      ['total', 'Total', '€31.98'],
      ['note', 'VAT reverse charge: you account for the VAT.', null],
    ]);
  });

  it('writes a rate as the shopper’s language does', () => {
    const texts = i18n();
    texts.use('de');
    const reduced = cart({}, { taxes: [{ name: 'Reduced', percent: '8.875', rate_ppm: 88750, amount: eur(100) }] });
    const lines = totalsLines(reduced, (k, p) => texts.t(k, p), euros('de'), 'de');
    expect(lines.find((l) => l.kind === 'included')?.label).toBe('inkl. 8,875 % MwSt. 1,00 €');
  });
});

describe('CartState', () => {
  let requests: { method: string; path: string; body: unknown }[];
  let answers: ((path: string, method: string) => Response | null)[];

  function answer(body: unknown, status = 200): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
    });
  }

  beforeEach(() => {
    requests = [];
    answers = [];
    client.setConfig({ baseUrl: 'http://shop.test' });
    vi.stubGlobal('fetch', async (request: Request) => {
      const path = new URL(request.url).pathname;
      const text = request.method === 'GET' ? '' : await request.text();
      requests.push({ method: request.method, path, body: text ? JSON.parse(text) : null });
      for (const respond of answers) {
        const response = respond(path, request.method);
        if (response) return response;
      }
      return answer({}, 404);
    });
  });

  afterEach(() => vi.unstubAllGlobals());

  it('shows no cart yet as an empty cart', async () => {
    answers.push((path) =>
      path === '/api/v1/store/cart' ? answer(problem('cart-not-found', 'no such cart', undefined, 404), 404) : null,
    );
    const state = TestBed.inject(CartState);
    await state.ensureLoaded();
    expect(state.loaded()).toBe(true);
    expect(state.cart()).toBeNull();
    expect(state.problem()).toBeNull();
    expect(state.itemCount()).toBe(0);
    expect(state.empty()).toBe(true);
    // Loaded once.
    await state.ensureLoaded();
    expect(requests.filter((r) => r.path === '/api/v1/store/cart').length).toBe(1);
  });

  it('adds a line and keeps the answer; a refusal leaves the cart as it was', async () => {
    const full = cart({ item_count: 3 });
    answers.push((path, method) =>
      path === '/api/v1/store/cart' && method === 'POST' ? answer(cart({ lines: [], item_count: 0 })) : null,
    );
    answers.push((path, method) => {
      if (path !== '/api/v1/store/cart/lines' || method !== 'POST') return null;
      return requests.at(-1)?.body && (requests.at(-1)?.body as { quantity: number }).quantity > 10
        ? answer(problem('not-enough-stock', 'only 10 of this item can be bought', 'quantity'), 422)
        : answer(full);
    });
    const state = TestBed.inject(CartState);
    TestBed.inject(I18n).register(CART_TEXTS);
    TestBed.inject(I18n).use('en');
    expect(await state.add('v1', 3)).toBeNull();
    expect(requests.find((r) => r.path === '/api/v1/store/cart/lines')?.body).toEqual({
      variant_id: 'v1',
      quantity: 3,
    });
    expect(state.itemCount()).toBe(3);
    expect(state.total()).toEqual(eur(3198));

    const refusal = await state.add('v1', 50);
    expect(refusal).not.toBeNull();
    expect(state.message(refusal!)).toBe('Sorry, only 10 of this item can be bought.');
    expect(state.itemCount()).toBe(3);
  });

  it('applies a code and says why one is refused', async () => {
    answers.push((path, method) => {
      if (path !== '/api/v1/store/cart/codes' || method !== 'POST') return null;
      const code = (requests.at(-1)?.body as { code: string }).code;
      return code === 'summer10'
        ? answer(cart({ codes: [{ code: 'SUMMER10', applied: true }] }))
        : answer(problem('code-unknown', `the code ${code} cannot be used: unknown`, 'code'), 422);
    });
    const state = TestBed.inject(CartState);
    const i18n = TestBed.inject(I18n);
    i18n.register(CART_TEXTS);
    i18n.use('de');
    expect(await state.applyCode('  summer10 ')).toBeNull();
    expect(requests.at(-1)?.body).toEqual({ code: 'summer10' });
    expect(state.cart()?.codes).toEqual([{ code: 'SUMMER10', applied: true }]);
    const refusal = await state.applyCode('NOPE');
    expect(state.message(refusal!)).toBe('Diesen Code gibt es nicht.');
    expect(state.cart()?.codes.length).toBe(1);
  });

  it('reads the cart again when the shopper signs in (the server merges the guest’s) or switches language', async () => {
    let reads = 0;
    answers.push((path, method) => {
      if (path !== '/api/v1/store/cart' || method !== 'GET') return null;
      reads++;
      return reads === 1
        ? answer(problem('cart-not-found', 'no such cart', undefined, 404), 404)
        : answer(cart({ customer_cart: true, item_count: 5 }));
    });
    const state = TestBed.inject(CartState);
    await state.ensureLoaded();
    TestBed.tick();
    expect(state.itemCount()).toBe(0);
    TestBed.inject(Customer).account.set({
      id: 'u1',
      email: 'erika@example.com',
      name: 'Erika',
      kind: 'customer',
      disabled: false,
      email_verified: true,
      roles: [],
      created_at: '2026-12-01T00:00:00Z',
      version: 1,
    } as never);
    TestBed.tick();
    await vi.waitFor(() => expect(state.itemCount()).toBe(5));
    expect(reads).toBe(2);
    TestBed.inject(I18n).use(TestBed.inject(I18n).locale() === 'de' ? 'en' : 'de');
    TestBed.tick();
    await vi.waitFor(() => expect(reads).toBe(3));
  });
});
