import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { StaffSession } from '../../staff-session';
import { INVENTORY } from '../../texts/inventory';
import { StockPage } from './stock';

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const LOCATION = { id: 'l1', name: 'Harbour', address: {}, priority: 1, active: true, ships_to: [], version: 1 };
const PRODUCT = {
  id: 'p1',
  name: { en: 'Lantern' },
  variants: [{ id: 'v1', sku: 'LANT-1', option_values: {}, position: 0, prices: [] }],
};

function stock(onHand: number, reserved: number) {
  return {
    variant_id: 'v1',
    sku: 'LANT-1',
    settings: { tracked: true, policy: 'deny', backorder_limit: null, preorder_until: null, low_stock_threshold: null },
    levels: [
      {
        location_id: 'l1',
        location_name: 'Harbour',
        on_hand: onHand,
        reserved,
        safety_stock: 0,
        available: onHand - reserved,
      },
    ],
    on_hand: onHand,
    reserved,
    available: onHand - reserved,
    settings_version: 0,
  };
}

describe('the stock grid page', () => {
  let sent: { method: string; path: string; body: unknown }[];
  let onHand: number;

  beforeEach(() => {
    sent = [];
    onHand = 5;
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(INVENTORY);
    i18n.use('en');
    TestBed.inject(StaffSession).permissions.set(new Set(['inventory.read', 'inventory.manage']));
    vi.stubGlobal('fetch', async (request: Request) => {
      const path = new URL(request.url).pathname;
      const body = request.method === 'GET' ? null : await request.json();
      sent.push({ method: request.method, path, body });
      if (path.endsWith('/inventory/locations')) return answer({ items: [LOCATION] });
      if (path.endsWith('/catalog/products')) return answer({ items: [PRODUCT] });
      if (path.endsWith('/variants/v1/stock/l1')) {
        onHand = (body as { on_hand: number }).on_hand;
        return answer(stock(onHand, 2));
      }
      if (path.endsWith('/variants/v1/stock')) return answer(stock(onHand, 2));
      if (path.endsWith('/shop') || path.endsWith('/currencies')) return answer({}, 404);
      return answer({}, 404);
    });
  });

  afterEach(() => vi.unstubAllGlobals());

  async function open() {
    const fixture = TestBed.createComponent(StockPage);
    fixture.componentRef.setInput('q', 'lantern');
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('input[aria-label="On hand of LANT-1 at Harbour"]')).not.toBeNull();
    });
    const cell = page.querySelector<HTMLInputElement>('input[aria-label="On hand of LANT-1 at Harbour"]')!;
    const type = async (value: string) => {
      cell.value = value;
      cell.dispatchEvent(new Event('input'));
      await fixture.whenStable();
    };
    const text = (selector: string) => page.querySelector(selector)?.textContent?.replace(/\s+/g, ' ').trim();
    const save = () => [...page.querySelectorAll('button')].find((b) => b.textContent?.includes('Save changes'))!;
    return { fixture, page, cell, type, text, save };
  }

  it('shows on hand, reserved and available per location and previews a typed count', async () => {
    const { cell, type, text, save } = await open();
    expect(cell.value).toBe('5');
    expect(text('.figures')).toBe('Reserved 2 · available 3');
    expect(save().disabled).toBe(true);
    await type('9');
    expect(text('.figures')).toBe('Reserved 2 · available 3 → 7 available');
    expect(cell.classList).toContain('changed');
    expect(save().textContent?.trim()).toBe('Save changes (1)');
  });

  it('refuses a count below what is reserved without sending it, and sends a valid one as a count', async () => {
    const { fixture, type, text, save } = await open();
    await type('1');
    save().click();
    await fixture.whenStable();
    expect(text('.figures .field-error')).toBe('Cannot be less than what is reserved here.');
    expect(sent.filter((r) => r.method === 'PUT')).toEqual([]);

    await type('0');
    expect(text('.figures .field-error')).toBeUndefined();
    await type('8');
    save().click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(text('[role=status]')).toBe('Saved 1 change.');
    });
    expect(sent.filter((r) => r.method === 'PUT')).toEqual([
      { method: 'PUT', path: '/api/v1/admin/inventory/variants/v1/stock/l1', body: { on_hand: 8, note: null } },
    ]);
    expect(text('.figures')).toBe('Reserved 2 · available 6');
  });

  it('sends the difference as an adjustment when another reason is chosen', async () => {
    const { fixture, page, type, save } = await open();
    const reason = page.querySelector<HTMLSelectElement>('#stock-reason')!;
    reason.value = 'damaged';
    reason.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    await type('3');
    save().click();
    await vi.waitFor(() => expect(sent.some((r) => r.path.endsWith('/inventory/adjustments'))).toBe(true));
    expect(sent.find((r) => r.path.endsWith('/inventory/adjustments'))!.body).toEqual({
      variant_id: 'v1',
      location_id: 'l1',
      reason: 'damaged',
      quantity: -2,
      reference: null,
      note: null,
    });
  });

  it('shows the figures without inputs or saving to members who may only read stock', async () => {
    TestBed.inject(StaffSession).permissions.set(new Set(['inventory.read']));
    const fixture = TestBed.createComponent(StockPage);
    fixture.componentRef.setInput('q', 'lantern');
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('.on-hand')?.textContent?.trim()).toBe('5');
    });
    expect(page.querySelector('.stock-cell input')).toBeNull();
    expect(page.querySelector('#stock-reason')).toBeNull();
    expect([...page.querySelectorAll('button')].map((b) => b.textContent?.trim())).not.toContain('Selling rules');
  });
});
