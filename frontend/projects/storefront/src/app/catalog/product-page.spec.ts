import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { ProductPage, availabilityText } from './product-page';
import { CATALOG_TEXTS } from './translations';

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const JACKET = {
  id: 'p1',
  kind: 'physical',
  name: 'Rain Jacket',
  description: 'Keeps you dry.',
  slug: 'rain-jacket',
  slugs: { en: 'rain-jacket', de: 'regenjacke' },
  options: [{ name: 'size', values: ['S', 'L'] }],
  attributes: { waterproof: true },
  tags: [],
  categories: [[{ id: 'c1', name: 'Outerwear', slug: 'outerwear' }]],
  media: [],
  locale: 'en',
  currency: 'EUR',
  variants: [
    {
      id: 'v1',
      sku: 'RJ-S',
      option_values: { size: 'S' },
      price: { amount: 8900, currency: 'EUR' },
      compare_at: { amount: 9900, currency: 'EUR' },
    },
    { id: 'v2', sku: 'RJ-L', option_values: { size: 'L' }, price: { amount: 9900, currency: 'EUR' } },
  ],
};

describe('ProductPage', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(CATALOG_TEXTS);
    i18n.use('en');
    vi.stubGlobal('fetch', async (request: Request) =>
      new URL(request.url).pathname.endsWith('/products/rain-jacket') ? answer(JACKET) : answer({}, 404),
    );
    vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
  });

  afterEach(() => vi.unstubAllGlobals());

  it('sets price, compare-at and SKU from the chosen options', async () => {
    const fixture = TestBed.createComponent(ProductPage);
    fixture.componentRef.setInput('slug', 'rain-jacket');
    const page: HTMLElement = fixture.nativeElement;
    const text = (selector: string) => page.querySelector(selector)?.textContent?.replace(/\s+/g, ' ').trim();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(text('h1')).toBe('Rain Jacket');
    });
    expect(text('[data-testid=price]')).toBe('Was €99.00 now €89.00');
    expect(page.querySelector('s.compare-at')).not.toBeNull();
    expect(text('[data-testid=sku]')).toBe('RJ-S');
    expect(text('.breadcrumbs')).toContain('Outerwear');
    expect(text('.attributes dd')).toBe('Yes');

    const large = page.querySelector<HTMLInputElement>('input[type=radio][value=L]')!;
    large.checked = true;
    large.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    expect(text('[data-testid=price]')).toBe('€99.00');
    expect(page.querySelector('s.compare-at')).toBeNull();
    expect(text('[data-testid=sku]')).toBe('RJ-L');
    expect(text('[data-testid=availability]')).toBe('Available');
  });

  it('shows the pictures the API gives, the largest rendering on the page', async () => {
    const image = (width: number) => ({ url: `/m/1/${width}`, width, height: width, content_type: 'image/webp' });
    const pictured = {
      ...JACKET,
      media: [
        { id: 'm1', width: 1200, height: 1200, alt: 'Jacket, front', images: [image(160), image(640)] },
        { id: 'm2', width: 800, height: 800, alt: null, images: [image(160)] },
      ],
    };
    vi.stubGlobal('fetch', async () => answer(pictured));
    const fixture = TestBed.createComponent(ProductPage);
    fixture.componentRef.setInput('slug', 'rain-jacket');
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('img.gallery-main')).not.toBeNull();
    });
    const main = page.querySelector<HTMLImageElement>('img.gallery-main')!;
    expect(main.getAttribute('src')).toBe('/m/1/640');
    expect(main.getAttribute('srcset')).toBe('/m/1/160 160w, /m/1/640 640w');
    expect(main.alt).toBe('Jacket, front');
    expect(page.querySelectorAll('.gallery-thumbs button').length).toBe(2);
    page.querySelectorAll<HTMLButtonElement>('.gallery-thumbs button')[1].click();
    await fixture.whenStable();
    // A picture without alt text is described by the product's name.
    expect(page.querySelector<HTMLImageElement>('img.gallery-main')!.alt).toBe('Rain Jacket');
  });

  it('says so when the product is not there', async () => {
    const fixture = TestBed.createComponent(ProductPage);
    fixture.componentRef.setInput('slug', 'no-such-thing');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(fixture.nativeElement.querySelector('h1')?.textContent).toContain('This product is not available');
    });
  });
});

describe('the availability line', () => {
  const t = (key: string, params?: Record<string, string | number>) =>
    params ? `${key} ${JSON.stringify(params)}` : key;
  const variant = (availability: unknown, price: unknown = { amount: 100, currency: 'EUR' }) =>
    ({ ...JACKET.variants[1], price, availability }) as Parameters<typeof availabilityText>[0];

  it('says only "available" for a variant whose stock is not counted', () => {
    expect(availabilityText(variant(null), t, 'en')).toBe('product.available');
    expect(availabilityText(variant(undefined), t, 'en')).toBe('product.available');
  });

  it('names the stock state of a counted variant', () => {
    for (const status of ['in_stock', 'low_stock', 'out_of_stock', 'backorder']) {
      expect(availabilityText(variant({ status, preorder_until: null }), t, 'en')).toBe(`stock.${status}`);
    }
  });

  it('gives the date a preorder ships from, in the shopper’s language', () => {
    const preorder = variant({ status: 'preorder', preorder_until: '2027-03-01T12:00:00Z' });
    expect(availabilityText(preorder, t, 'en')).toBe('stock.preorder-from {"date":"March 1, 2027"}');
    expect(availabilityText(preorder, t, 'de')).toBe('stock.preorder-from {"date":"1. März 2027"}');
    expect(availabilityText(variant({ status: 'preorder', preorder_until: null }), t, 'en')).toBe('stock.preorder');
  });

  it('puts the currency and the combination before the stock', () => {
    expect(availabilityText(null, t, 'en')).toBe('product.unavailable');
    expect(availabilityText(variant({ status: 'in_stock', preorder_until: null }, null), t, 'en')).toBe(
      'product.unavailable-currency',
    );
  });
});

describe('ProductPage stock', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(CATALOG_TEXTS);
    i18n.use('en');
    const counted = {
      ...JACKET,
      variants: [
        { ...JACKET.variants[0], availability: { status: 'out_of_stock', preorder_until: null } },
        { ...JACKET.variants[1], availability: { status: 'low_stock', preorder_until: null } },
      ],
    };
    vi.stubGlobal('fetch', async () => answer(counted));
    vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
  });

  afterEach(() => vi.unstubAllGlobals());

  it('shows the chosen variant’s stock and follows a change of variant', async () => {
    const fixture = TestBed.createComponent(ProductPage);
    fixture.componentRef.setInput('slug', 'rain-jacket');
    const page: HTMLElement = fixture.nativeElement;
    const line = () => page.querySelector('[data-testid=availability]');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(line()?.textContent?.trim()).toBe('Out of stock');
    });
    expect(line()?.classList).toContain('out_of_stock');
    const large = page.querySelector<HTMLInputElement>('input[type=radio][value=L]')!;
    large.checked = true;
    large.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    expect(line()?.textContent?.trim()).toBe('Only a few left');
  });
});

describe('ProductPage add to cart', () => {
  let added: unknown[];

  beforeEach(() => {
    added = [];
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(CATALOG_TEXTS);
    i18n.use('en');
    const counted = {
      ...JACKET,
      variants: [
        { ...JACKET.variants[0], availability: { status: 'in_stock', preorder_until: null } },
        { ...JACKET.variants[1], availability: { status: 'out_of_stock', preorder_until: null } },
      ],
    };
    vi.stubGlobal('fetch', async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path.endsWith('/products/rain-jacket')) return answer(counted);
      if (path === '/api/v1/store/cart/lines' && request.method === 'POST') {
        const body = JSON.parse(await request.text());
        added.push(body);
        if (body.quantity > 5) {
          return answer(
            {
              type: 'https://agora.dev/problems/not-enough-stock',
              title: 'Unprocessable Entity',
              status: 422,
              detail: 'only 5 of this item can be bought',
              errors: [{ field: 'quantity', message: 'only 5 of this item can be bought' }],
            },
            422,
          );
        }
        return answer({ id: 'c1', currency: 'EUR', item_count: body.quantity, lines: [], totals: {} });
      }
      return answer({}, 404);
    });
    vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
  });

  afterEach(() => vi.unstubAllGlobals());

  it('adds the chosen variant with its quantity, says so, and tells why a quantity is refused', async () => {
    const fixture = TestBed.createComponent(ProductPage);
    fixture.componentRef.setInput('slug', 'rain-jacket');
    const page: HTMLElement = fixture.nativeElement;
    const button = () =>
      [...page.querySelectorAll<HTMLButtonElement>('button')].find((b) => b.textContent?.trim() === 'Add to cart')!;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(button()).toBeTruthy();
    });
    expect(button().disabled).toBe(false);
    const quantity = page.querySelector<HTMLInputElement>('#add-to-cart-quantity')!;
    quantity.value = '2';
    quantity.dispatchEvent(new Event('input'));
    button().click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('[data-testid=add-to-cart-status]')?.textContent?.trim()).toBe('Added to your cart.');
    });
    expect(added).toEqual([{ variant_id: 'v1', quantity: 2 }]);

    quantity.value = '9';
    quantity.dispatchEvent(new Event('input'));
    button().click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('[role=alert]')?.textContent?.trim()).toBe('Sorry, only 5 of this item can be bought.');
    });
    expect(page.querySelector('[data-testid=add-to-cart-status]')?.textContent?.trim()).toBe('');

    // A quantity that is not a whole number is refused at the field, before asking.
    quantity.value = '1.5';
    quantity.dispatchEvent(new Event('input'));
    button().click();
    await fixture.whenStable();
    expect(quantity.getAttribute('aria-invalid')).toBe('true');
    expect(added.length).toBe(2);
  });

  it('cannot add a variant that is sold out', async () => {
    const fixture = TestBed.createComponent(ProductPage);
    fixture.componentRef.setInput('slug', 'rain-jacket');
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('h1')?.textContent).toContain('Rain Jacket');
    });
    const large = page.querySelector<HTMLInputElement>('input[type=radio][value=L]')!;
    large.checked = true;
    large.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    const button = [...page.querySelectorAll<HTMLButtonElement>('button')].find(
      (b) => b.textContent?.trim() === 'Add to cart',
    )!;
    expect(button.disabled).toBe(true);
  });
});
