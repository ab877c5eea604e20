import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { StaffSession } from '../../staff-session';
import { CATALOG } from '../../texts/catalog';
import { ProductEditor } from './product-editor';

function json(body: unknown, status = 200): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

/** The network is the boundary: a shop in English and German that sells in euros. */
function api() {
  vi.stubGlobal('fetch', async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path === '/api/v1/store/shop')
      return json({ default_currency: 'EUR', default_locale: 'en', locales: ['en', 'de'] });
    if (path === '/api/v1/admin/catalog/currencies') return json({ currencies: ['EUR'], default_currency: 'EUR' });
    if (path === '/api/v1/admin/catalog/product-types') return json([]);
    if (path === '/api/v1/admin/catalog/categories') return json([]);
    return json({ type: 'about:blank', title: 'Not found', detail: '', status: 404 }, 404);
  });
}

describe('the product editor', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    TestBed.inject(I18n).register(CATALOG);
    TestBed.inject(StaffSession).permissions.set(new Set(['catalog.read', 'catalog.manage']));
    api();
  });

  afterEach(() => {
    TestBed.inject(I18n).use('en');
    vi.unstubAllGlobals();
  });

  async function editor() {
    const fixture = TestBed.createComponent(ProductEditor);
    const element: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.querySelector('form')).not.toBeNull();
    });
    return { fixture, element };
  }

  const texts = (element: HTMLElement, selector: string) =>
    [...element.querySelectorAll(selector)].map((e) => e.textContent?.replace(/\s+/g, ' ').trim());

  it('speaks German when the member does, down to the grid and its labels', async () => {
    TestBed.inject(I18n).use('de');
    const { element } = await editor();
    expect(element.querySelector('h1')?.textContent).toBe('Neues Produkt');
    expect(texts(element, 'h2')).toEqual([
      'Texte und Suchmaschinen',
      'Veröffentlichung',
      'Einordnung',
      'Optionen',
      'Varianten und Preise',
    ]);
    expect(texts(element, '[role=tab]')).toEqual(['Englisch (Standard)', 'Deutsch']);
    expect(texts(element, 'thead th')).toEqual([
      'SKU',
      'Barcode',
      'Gewicht (g)',
      'Preis EUR',
      'Vergleichspreis EUR',
      'Aktionen',
    ]);
    expect(element.querySelector('#v0-price-EUR')?.getAttribute('aria-label')).toBe('Preis in EUR der Variante 1');
    expect(texts(element, 'button[type=submit]')).toEqual(['Produkt anlegen']);
    expect(texts(element, '#status option')).toEqual(['Entwurf (verborgen)', 'Aktiv', 'Archiviert']);
  });

  it('names amounts that are not amounts in the member’s language', async () => {
    TestBed.inject(I18n).use('de');
    const { fixture, element } = await editor();
    const price = element.querySelector<HTMLInputElement>('#v0-price-EUR')!;
    price.value = 'zehn';
    price.dispatchEvent(new Event('input'));
    element.querySelector('form')!.dispatchEvent(new Event('submit'));
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.querySelector('#v0-price-EUR-error')?.textContent).toContain('kein Betrag');
    });
  });

  it('keeps its English texts', async () => {
    const { element } = await editor();
    expect(element.querySelector('h1')?.textContent).toBe('New product');
    expect(texts(element, '[role=tab]')).toEqual(['English (default)', 'German']);
    expect(texts(element, 'button[type=submit]')).toEqual(['Create product']);
  });
});
