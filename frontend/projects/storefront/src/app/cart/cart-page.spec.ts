import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { CartPage } from './cart-page';
import { MiniCart } from './mini-cart';

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });
}

const eur = (amount: number) => ({ amount, currency: 'EUR' });

const CART = {
  id: 'c1',
  currency: 'EUR',
  locale: 'de',
  customer_cart: false,
  item_count: 3,
  lines: [
    {
      id: 'l1',
      variant_id: 'v1',
      name: 'Regenjacke',
      slug: 'regenjacke',
      sku: 'RJ-S',
      option_values: { Größe: 'S' },
      quantity: 1,
      unit_price: eur(8900),
      compare_at: eur(9900),
      line_total: eur(8900),
    },
    {
      id: 'l2',
      variant_id: 'v2',
      name: 'Regenjacke',
      slug: 'regenjacke',
      sku: 'RJ-L',
      option_values: { Größe: 'L' },
      quantity: 2,
      unit_price: eur(9900),
      line_total: eur(19800),
      problem: 'not_enough_stock',
      available: 1,
    },
  ],
  codes: [],
  discounts: [],
  notices: [{ kind: 'price_changed', line_id: 'l1', previous: eur(7900), current: eur(8900) }],
  shipping: { requires_shipping: true, options: [], pickup_locations: [] },
  totals: {
    subtotal: eur(8900),
    discount_total: eur(0),
    shipping_total: eur(0),
    tax_total: eur(1421),
    total: eur(8900),
    taxes: [{ name: 'VAT 19 %', percent: '19', rate_ppm: 190000, amount: eur(1421) }],
    prices_include_tax: true,
    tax_country: 'DE',
    reverse_charge: false,
  },
  version: 1,
  modified_at: '2026-12-02T12:00:00Z',
  expires_at: '2026-12-05T12:00:00Z',
};

describe('CartPage', () => {
  let current: unknown;
  let requests: { method: string; path: string; body: unknown }[];

  beforeEach(() => {
    current = null;
    requests = [];
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    TestBed.inject(I18n).use('de');
    vi.stubGlobal('fetch', async (request: Request) => {
      const path = new URL(request.url).pathname;
      const text = request.method === 'GET' ? '' : await request.text();
      requests.push({ method: request.method, path, body: text ? JSON.parse(text) : null });
      if (path === '/api/v1/store/cart' && request.method === 'GET') {
        return current
          ? answer(current)
          : answer(
              { type: 'https://agora.dev/problems/cart-not-found', title: 'Not Found', status: 404, detail: '' },
              404,
            );
      }
      if (path === '/api/v1/store/cart/codes') {
        return answer(
          {
            type: 'https://agora.dev/problems/code-expired',
            title: 'Unprocessable Entity',
            status: 422,
            detail: 'the code OLD cannot be used: expired',
            errors: [{ field: 'code', message: 'the code OLD cannot be used: expired' }],
          },
          422,
        );
      }
      if (path === '/api/v1/store/cart/refresh') {
        current = { ...CART, notices: [] };
        return answer(current);
      }
      if (path === '/api/v1/store/pricing/shipping/countries') return answer({ countries: ['DE', 'AT'] });
      return answer({}, 404);
    });
  });

  afterEach(() => vi.unstubAllGlobals());

  const text = (page: HTMLElement, selector: string) =>
    [...page.querySelectorAll(selector)].map((e) => e.textContent?.replace(/\s+/g, ' ').trim());

  it('shows no cart as an empty cart with a way back to the shop', async () => {
    const fixture = TestBed.createComponent(CartPage);
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(text(page, '.empty p')[0]).toBe('Ihr Warenkorb ist leer.');
    });
    expect(page.querySelector('.empty a')?.getAttribute('href')).toBe('/');
  });

  it('shows the lines, what is wrong with one, the notices and the VAT inside the total', async () => {
    current = CART;
    const fixture = TestBed.createComponent(CartPage);
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelectorAll('[data-testid=cart-line]').length).toBe(2);
    });
    expect(page.querySelector('.cart-line-name')?.getAttribute('href')).toBe('/p/regenjacke');
    expect(text(page, '.cart-line-options')).toEqual(['Größe: S', 'Größe: L']);
    expect(page.querySelector('.cart-line s.compare-at')?.textContent).toContain('99,00');
    expect(text(page, '[data-testid=line-problem]')).toEqual([
      'Nur noch 1 vorrätig: verringern Sie die Menge, um es zu kaufen.',
    ]);
    expect(text(page, '.cart-notices li')).toEqual([
      'Der Preis von Regenjacke hat sich von 79,00 € auf 89,00 € geändert.',
    ]);
    expect(text(page, '.totals-line').map((t) => t?.replace(/\s/g, ' '))).toEqual([
      'Zwischensumme 89,00 €',
      'Versand unten wählen',
      'Gesamtsumme 89,00 €',
      'inkl. 19 % MwSt. 14,21 €',
    ]);
    // The countries the shop delivers to, by name.
    expect(text(page, '#cart-country option')).toEqual(['Land wählen', 'Deutschland', 'Österreich']);

    // OK: the notices are read.
    [...page.querySelectorAll<HTMLButtonElement>('.cart-notices button')][0].click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('.cart-notices')).toBeNull();
    });
    expect(requests.some((r) => r.path === '/api/v1/store/cart/refresh' && r.method === 'POST')).toBe(true);
  });

  it('says under the field why a code is refused', async () => {
    current = CART;
    const fixture = TestBed.createComponent(CartPage);
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('#cart-code')).not.toBeNull();
    });
    const field = page.querySelector<HTMLInputElement>('#cart-code')!;
    field.value = 'OLD';
    field.dispatchEvent(new Event('input'));
    page.querySelector<HTMLFormElement>('.code-form')!.dispatchEvent(new Event('submit'));
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('#cart-code-error')?.textContent?.trim()).toBe('Dieser Code ist abgelaufen.');
    });
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(requests.find((r) => r.path === '/api/v1/store/cart/codes')?.body).toEqual({ code: 'OLD' });
  });

  it('links the header to the cart with its item count and total', async () => {
    current = CART;
    TestBed.inject(I18n).use('en');
    const fixture = TestBed.createComponent(MiniCart);
    const link: HTMLAnchorElement = fixture.nativeElement.querySelector('a');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(link.textContent?.replace(/\s+/g, ' ').trim()).toBe('Cart (3) total €89.00');
    });
    expect(link.getAttribute('href')).toBe('/cart');
  });
});
