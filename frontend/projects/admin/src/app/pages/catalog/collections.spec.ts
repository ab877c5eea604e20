import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { StaffSession } from '../../staff-session';
import { CATALOG } from '../../texts/catalog';
import { CollectionsPage } from './collections';

function json(body: unknown, status = 200): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

/**
 * The network is the boundary: a shop in English and German whose rule parser knows `tag` and
 * nothing else. Every rule tried is recorded.
 */
function api(): { tried: string[] } {
  const tried: string[] = [];
  vi.stubGlobal('fetch', async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path === '/api/v1/store/shop')
      return json({ default_currency: 'EUR', default_locale: 'en', locales: ['en', 'de'] });
    if (path === '/api/v1/admin/catalog/currencies') return json({ currencies: ['EUR'], default_currency: 'EUR' });
    if (path === '/api/v1/admin/catalog/collections' && request.method === 'GET') return json([]);
    if (path === '/api/v1/admin/catalog/collections/preview') {
      const { rule } = (await request.json()) as { rule: string };
      tried.push(rule);
      if (!rule.startsWith('tag = ') || rule === 'tag = ') {
        return json(
          {
            type: 'https://agora.dev/problems/validation-failed',
            title: 'Validation failed',
            detail: '',
            status: 422,
            errors: [{ field: 'rule', message: 'expected tag = <word>' }],
          },
          422,
        );
      }
      const total = rule === 'tag = summer' ? 14 : 1;
      const items = [
        { id: 'p1', name: 'Linen shirt', status: 'active' },
        { id: 'p2', name: 'Sandals', status: 'draft' },
      ].slice(0, total);
      return json({ total, items });
    }
    return json({ type: 'about:blank', title: 'Not found', detail: '', status: 404 }, 404);
  });
  return { tried };
}

describe('the collection editor', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    TestBed.inject(I18n).register(CATALOG);
    TestBed.inject(StaffSession).permissions.set(new Set(['catalog.read', 'catalog.manage']));
  });

  afterEach(() => {
    TestBed.inject(I18n).use('en');
    vi.unstubAllGlobals();
  });

  async function newCollection() {
    const fixture = TestBed.createComponent(CollectionsPage);
    const element: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.querySelector('table')).not.toBeNull();
    });
    const button = [...element.querySelectorAll('button')].find((b) =>
      /New collection|Neue Kollektion/.test(b.textContent ?? ''),
    );
    button!.click();
    await fixture.whenStable();
    return { fixture, element };
  }

  async function chooseRule(fixture: { whenStable(): Promise<unknown> }, element: HTMLElement) {
    const radio = element.querySelector<HTMLInputElement>('input[type=radio][value=rule]')!;
    radio.click();
    await fixture.whenStable();
    return element.querySelector<HTMLInputElement>('#collection-rule')!;
  }

  function type(input: HTMLInputElement, text: string) {
    input.value = text;
    input.dispatchEvent(new Event('input'));
  }

  const count = (element: HTMLElement) =>
    element.querySelector('[aria-live=polite]#rule-matches-count')?.textContent?.trim();

  it('shows what the rule being typed matches, asking once typing pauses', async () => {
    const { tried } = api();
    const { fixture, element } = await newCollection();
    const rule = await chooseRule(fixture, element);
    type(rule, 'tag = s');
    type(rule, 'tag = su');
    type(rule, 'tag = summer');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(count(element)).toBe('14 products match this rule.');
    });
    expect(tried).toEqual(['tag = summer']);
    const items = [...element.querySelectorAll('.rule-matches li')].map((li) =>
      li.textContent?.replace(/\s+/g, ' ').trim(),
    );
    expect(items).toEqual(['Linen shirt Active', 'Sandals Draft']);
    expect(element.querySelector('.rule-matches')?.textContent).toContain('and 12 more');
    expect(rule.getAttribute('aria-invalid')).toBe('false');

    type(rule, 'tag = linen');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(count(element)).toBe('1 product matches this rule.');
    });
  });

  it('shows why a rule does not parse next to the field, before saving', async () => {
    api();
    const { fixture, element } = await newCollection();
    const rule = await chooseRule(fixture, element);
    type(rule, 'colour is red');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.querySelector('#collection-rule-error')?.textContent?.trim()).toBe('expected tag = <word>');
    });
    expect(rule.getAttribute('aria-invalid')).toBe('true');
    expect(rule.getAttribute('aria-describedby')).toBe('collection-rule-hint collection-rule-error');
    expect(count(element)).toBe('');
    expect(element.querySelector('[role=alert]')).toBeNull();

    type(rule, 'tag = summer');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.querySelector('#collection-rule-error')).toBeNull();
    });
    expect(rule.getAttribute('aria-invalid')).toBe('false');
  });

  it('sends no empty rule', async () => {
    const { tried } = api();
    const { fixture, element } = await newCollection();
    const rule = await chooseRule(fixture, element);
    type(rule, '   ');
    await new Promise((r) => setTimeout(r, 500));
    await fixture.whenStable();
    expect(tried).toEqual([]);
    expect(count(element)).toBe('');
  });

  it('speaks German, and names the languages in German', async () => {
    api();
    TestBed.inject(I18n).use('de');
    const { fixture, element } = await newCollection();
    const labels = [...element.querySelectorAll('label[for^=collection-name-]')].map((l) => l.textContent?.trim());
    expect(labels).toEqual(['Name (Englisch)', 'Name (Deutsch)']);
    const rule = await chooseRule(fixture, element);
    type(rule, 'tag = summer');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(count(element)).toBe('Auf diese Regel passen 14 Produkte.');
    });
    expect(element.querySelector('.rule-matches h3')?.textContent).toBe('Produkte, auf die diese Regel passt');
  });
});
