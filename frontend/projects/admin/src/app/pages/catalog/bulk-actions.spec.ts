import { TestBed } from '@angular/core/testing';
import { I18n, client } from 'shared';
import { CATALOG } from '../../texts/catalog';
import { BulkActions } from './bulk-actions';
import { CatalogShop } from './catalog-support';

/** What the form sent, answered as the bulk API answers: 202 with the task's id. */
function api(): { sent: { url: string; body: unknown }[] } {
  const sent: { url: string; body: unknown }[] = [];
  vi.stubGlobal('fetch', async (request: Request) => {
    sent.push({ url: request.url, body: await request.json() });
    return new Response(JSON.stringify({ task_id: 'task-9' }), {
      status: 202,
      headers: { 'Content-Type': 'application/json' },
    });
  });
  return { sent };
}

function form(): {
  element: HTMLElement;
  started: string[];
  submit: () => Promise<void>;
  settle: () => Promise<void>;
  pick: (action: string) => void;
} {
  const fixture = TestBed.createComponent(BulkActions);
  fixture.componentRef.setInput('ids', ['p1', 'p2']);
  fixture.componentRef.setInput('filter', { status: 'draft' });
  const started: string[] = [];
  fixture.componentInstance.started.subscribe((id) => started.push(id));
  fixture.detectChanges();
  const element: HTMLElement = fixture.nativeElement;
  const settle = async (): Promise<void> => {
    await fixture.whenStable();
    fixture.detectChanges();
    await fixture.whenStable();
  };
  // The kind of change is picked through the form's own state: the select's ngModel is
  // Angular's, and this spec is about what the form sends, not about forms.
  const pick = (action: string): void =>
    (fixture.componentInstance as unknown as { action: { set(a: string): void } }).action.set(action);
  return {
    element,
    started,
    settle,
    pick,
    submit: async () => {
      element.querySelector('form')!.dispatchEvent(new Event('submit'));
      await new Promise((r) => setTimeout(r, 50));
      await settle();
    },
  };
}

function choose(element: HTMLElement, selector: string, value: string): void {
  const field = element.querySelector<HTMLInputElement | HTMLSelectElement>(selector)!;
  field.value = value;
  field.dispatchEvent(new Event(field instanceof HTMLSelectElement ? 'change' : 'input'));
}

describe('BulkActions', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.inject(I18n).register(CATALOG);
    TestBed.inject(CatalogShop).currencies.set(['EUR', 'USD']);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('raises the selected products by a percentage in basis points and reports the task', async () => {
    const calls = api();
    const { element, started, submit, settle, pick } = form();
    pick('percent');
    await settle();
    choose(element, '#bulk-percent', '12,5');
    await submit();
    expect(calls.sent).toEqual([
      {
        url: 'http://shop.test/api/v1/admin/catalog/bulk/prices',
        body: { selection: { ids: ['p1', 'p2'] }, percent_basis_points: 1250 },
      },
    ]);
    expect(started).toEqual(['task-9']);
  });

  it('refuses an amount that is not one without asking the API', async () => {
    const calls = api();
    const { element, started, submit, settle, pick } = form();
    pick('amount');
    await settle();
    choose(element, '#bulk-amount-EUR', '1.234');
    await submit();
    expect(calls.sent).toEqual([]);
    expect(started).toEqual([]);
    expect(element.textContent).toContain('1.234 is not an amount in EUR.');
  });
});
