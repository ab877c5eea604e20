import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { Catalog, fractionDigits, type ProductSummary } from './catalog';
import { ProductCard } from './product-card';
import { parseAttributes, sortHits } from './product-list';
import { SearchBox } from './search-box';
import { CATALOG_TEXTS } from './translations';

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function summary(name: string, amount: number | null): ProductSummary {
  return {
    id: name,
    name,
    slug: name.toLowerCase(),
    tags: [],
    attributes: {},
    price_from: amount === null ? null : { amount, currency: 'EUR' },
    in_stock: true,
  };
}

describe('catalogue texts', () => {
  it('has every English text in German too, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(CATALOG_TEXTS.en)) {
      expect(CATALOG_TEXTS.de[key], key).toBeTruthy();
      expect(placeholders(CATALOG_TEXTS.de[key]), key).toEqual(placeholders(english));
    }
    expect(Object.keys(CATALOG_TEXTS.de).sort()).toEqual(Object.keys(CATALOG_TEXTS.en).sort());
  });
});

describe('filters and sorting', () => {
  it('reads attribute filters from the URL and skips malformed ones', () => {
    expect(parseAttributes('colour:red,size:m')).toEqual([
      ['colour', 'red'],
      ['size', 'm'],
    ]);
    expect(parseAttributes('colour,:x,size:')).toEqual([]);
    expect(parseAttributes(undefined)).toEqual([]);
  });

  it('rearranges search hits by price and name, keeping relevance by default', () => {
    const hits = [summary('Bravo', 500), summary('Alpha', 900), summary('Charlie', null)];
    expect(sortHits(hits, 'relevance').map((p) => p.name)).toEqual(['Bravo', 'Alpha', 'Charlie']);
    expect(sortHits(hits, 'price').map((p) => p.name)).toEqual(['Bravo', 'Alpha', 'Charlie']);
    expect(sortHits(hits, '-price').map((p) => p.name)).toEqual(['Charlie', 'Alpha', 'Bravo']);
    expect(sortHits(hits, 'name').map((p) => p.name)).toEqual(['Alpha', 'Bravo', 'Charlie']);
  });
});

describe('prices', () => {
  beforeEach(() => {
    vi.stubGlobal('fetch', async () => answer(404, {}));
    client.setConfig({ baseUrl: 'http://shop.test' });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('shows minor units in the currency and the shopper language', () => {
    expect(fractionDigits('EUR')).toBe(2);
    expect(fractionDigits('JPY')).toBe(0);
    const i18n = TestBed.inject(I18n);
    const catalog = TestBed.inject(Catalog);
    i18n.use('de');
    expect(catalog.format({ amount: 1999, currency: 'EUR' }).replace(/\s/g, ' ')).toBe('19,99 €');
    i18n.use('en');
    expect(catalog.format({ amount: 1999, currency: 'EUR' })).toBe('€19.99');
    expect(catalog.format({ amount: 1200, currency: 'JPY' })).toBe('¥1,200');
  });
});

describe('SearchBox', () => {
  let requests: Request[];

  beforeEach(() => {
    requests = [];
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(CATALOG_TEXTS);
    i18n.use('en');
    vi.stubGlobal('fetch', async (request: Request) => {
      requests.push(request);
      return answer(200, { suggestions: ['T-Shirt', 'T-Shirt Dress'] });
    });
  });

  afterEach(() => vi.unstubAllGlobals());

  it('offers suggestions for a typo and takes one with the keyboard', async () => {
    const router = TestBed.inject(Router);
    const navigate = vi.spyOn(router, 'navigate').mockResolvedValue(true);
    const fixture = TestBed.createComponent(SearchBox);
    await fixture.whenStable();
    const box: HTMLElement = fixture.nativeElement;
    const input = box.querySelector<HTMLInputElement>('input[role=combobox]')!;
    expect(input.getAttribute('aria-expanded')).toBe('false');
    input.value = 'tshrit';
    input.dispatchEvent(new Event('input'));
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(box.querySelectorAll('[role=option]').length).toBe(2);
    });
    expect(new URL(requests[0].url).searchParams.get('q')).toBe('tshrit');
    expect(input.getAttribute('aria-expanded')).toBe('true');
    expect(box.querySelector('[role=status]')?.textContent).toContain('2 suggestions');

    const press = async (key: string) => {
      input.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
      await fixture.whenStable();
    };
    await press('ArrowDown');
    expect(input.getAttribute('aria-activedescendant')).toBe('search-suggestion-0');
    expect(box.querySelector('#search-suggestion-0')?.getAttribute('aria-selected')).toBe('true');
    await press('ArrowUp');
    expect(input.getAttribute('aria-activedescendant')).toBe('search-suggestion-1');
    await press('Enter');
    expect(navigate).toHaveBeenCalledWith(['/search'], { queryParams: { q: 'T-Shirt Dress' } });
    expect(input.getAttribute('aria-expanded')).toBe('false');
  });

  it('closes the list with Escape', async () => {
    const fixture = TestBed.createComponent(SearchBox);
    await fixture.whenStable();
    const box: HTMLElement = fixture.nativeElement;
    const input = box.querySelector<HTMLInputElement>('input[role=combobox]')!;
    input.value = 'tsh';
    input.dispatchEvent(new Event('input'));
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(input.getAttribute('aria-expanded')).toBe('true');
    });
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
    await fixture.whenStable();
    expect(input.getAttribute('aria-expanded')).toBe('false');
    expect(box.querySelector<HTMLElement>('#search-suggestions')!.hidden).toBe(true);
  });
});

describe('ProductCard', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    vi.stubGlobal('fetch', async () => answer(404, {}));
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(CATALOG_TEXTS);
    i18n.use('en');
  });

  afterEach(() => vi.unstubAllGlobals());

  it('marks a product none of whose variants can be bought now', async () => {
    const card = async (inStock: boolean) => {
      const fixture = TestBed.createComponent(ProductCard);
      fixture.componentRef.setInput('product', { ...summary('Lantern', 4900), in_stock: inStock });
      await fixture.whenStable();
      return (fixture.nativeElement as HTMLElement).querySelector('.stock-badge')?.textContent?.trim();
    };
    expect(await card(false)).toBe('Out of stock');
    expect(await card(true)).toBeUndefined();
  });

  async function card(product: ProductSummary) {
    const fixture = TestBed.createComponent(ProductCard);
    fixture.componentRef.setInput('product', product);
    await fixture.whenStable();
    return fixture.nativeElement as HTMLElement;
  }

  it('shows the product’s picture lazily, at its size, from the renderings the API gives', async () => {
    const rendering = (width: number) => ({
      url: `/media/m1/${width}.webp`,
      width,
      height: (width * 3) / 4,
      content_type: 'image/webp',
    });
    const element = await card({
      ...summary('Lantern', 4900),
      image: {
        id: 'm1',
        alt: 'A brass lantern, lit',
        width: 1600,
        height: 1200,
        images: [rendering(160), rendering(480)],
      },
    });
    const img = element.querySelector('img')!;
    expect(img.getAttribute('src')).toBe('/media/m1/480.webp');
    expect(img.getAttribute('srcset')).toBe('/media/m1/160.webp 160w, /media/m1/480.webp 480w');
    expect(img.getAttribute('sizes')).toBeTruthy();
    expect(img.getAttribute('loading')).toBe('lazy');
    // The space is kept before the file arrives, so the grid does not jump.
    expect([img.getAttribute('width'), img.getAttribute('height')]).toEqual(['1600', '1200']);
    expect(img.alt).toBe('A brass lantern, lit');
    expect(element.querySelector('.product-placeholder')).toBeNull();
  });

  it('leaves a picture without alt text to the name below it, and shows a placeholder without one', async () => {
    const unnamed = await card({
      ...summary('Lantern', 4900),
      image: {
        id: 'm1',
        alt: null,
        width: 160,
        height: 160,
        images: [{ url: '/m.webp', width: 160, height: 160, content_type: 'image/webp' }],
      },
    });
    // Empty, not absent: the link is named by the product's name alone, not read twice.
    expect(unnamed.querySelector('img')?.getAttribute('alt')).toBe('');
    for (const image of [null, { id: 'm2', alt: 'Still rendering', width: 10, height: 10, images: [] }]) {
      const element = await card({ ...summary('Lantern', 4900), image });
      expect(element.querySelector('img')).toBeNull();
      const placeholder = element.querySelector('.product-placeholder');
      expect(placeholder?.getAttribute('aria-hidden')).toBe('true');
      expect(placeholder?.textContent?.trim()).toBe('L');
    }
  });

  it('strikes through the was-price, and says "was" to screen readers', async () => {
    const reduced = await card({ ...summary('Lantern', 3900), compare_at: { amount: 4900, currency: 'EUR' } });
    const price = reduced.querySelector('.price')!;
    expect(price.querySelector('s.compare-at')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('Was €49.00');
    expect(price.querySelector('s.compare-at .visually-hidden')?.textContent).toBe('Was');
    expect(price.textContent?.replace(/\s+/g, ' ').trim()).toBe('Was €49.00 now from €39.00');
    const full = await card(summary('Lantern', 4900));
    expect(full.querySelector('s')).toBeNull();
    expect(full.querySelector('.price')?.textContent?.trim()).toBe('from €49.00');
  });
});
