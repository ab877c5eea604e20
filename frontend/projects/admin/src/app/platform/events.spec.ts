import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { I18n, client } from 'shared';
import { PLATFORM } from '../texts/platform';
import { PlatformEventsPage, redeliverToAll, type PublishedEvent } from './events';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function event(id: string, deliveries: PublishedEvent['deliveries']): PublishedEvent {
  return {
    event_id: id,
    name: 'catalog.product_created.v1',
    tenant: 'demo',
    aggregate_id: 'p1',
    payload: { id: 'p1' },
    created_at: '2026-12-01T10:00:00Z',
    deliveries,
  };
}

const delivered = { subscriber: 'webhooks', state: 'succeeded', attempts: 1 };
const failing = { subscriber: 'search', state: 'retry', attempts: 2, last_error: 'index unavailable' };

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the events page', () => {
  let requests: Request[];

  beforeEach(() => {
    requests = [];
    client.setConfig({ baseUrl: 'http://platform.test' });
    vi.stubGlobal('fetch', async (request: Request) => {
      requests.push(request);
      const url = new URL(request.url);
      if (url.pathname === '/api/v1/platform/events') {
        return json(200, { items: [event('e1', [delivered, failing]), event('e2', [delivered])] });
      }
      return json(200, { queued: url.searchParams.get('all') === 'true' ? 1 : 1 });
    });
    TestBed.configureTestingModule({
      providers: [provideRouter([{ path: 'platform/events', component: PlatformEventsPage }])],
    });
    TestBed.inject(I18n).register(PLATFORM);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('delivers to everyone again only when no delivery failed', () => {
    expect(redeliverToAll(event('e', [delivered, failing]))).toBe(false);
    expect(redeliverToAll(event('e', [delivered, { ...failing, state: 'dead' }]))).toBe(false);
    expect(redeliverToAll(event('e', [delivered]))).toBe(true);
    expect(redeliverToAll(event('e', []))).toBe(true);
  });

  it('lists events with their deliveries and redelivers the failed ones', async () => {
    const harness = await RouterTestingHarness.create('/platform/events?delivery=retry&shop=demo');
    const element = harness.routeNativeElement as HTMLElement;
    await until(() => element.querySelectorAll('tbody tr').length === 2);
    const query = new URL(requests[0].url).searchParams;
    expect(query.get('delivery_state')).toBe('retry');
    expect(query.get('tenant')).toBe('demo');
    const first = element.querySelector('tbody tr') as HTMLElement;
    expect(first.textContent).toContain('index unavailable');
    expect(first.querySelector('a')?.getAttribute('href')).toBe('/platform/jobs?event=e1');
    (first.querySelector('button') as HTMLButtonElement).click();
    await until(() => !!element.querySelector('[role=status]'));
    const post = requests.find((r) => r.method === 'POST')!;
    expect(new URL(post.url).pathname).toBe('/api/v1/platform/events/e1/redeliver');
    expect(new URL(post.url).searchParams.get('all')).toBe('false');
    expect(element.querySelector('[role=status]')?.textContent).toContain(
      'catalog.product_created.v1: 1 deliveries queued.',
    );
  });

  it('sends an event whose deliveries all succeeded to every subscriber again', async () => {
    const harness = await RouterTestingHarness.create('/platform/events');
    const element = harness.routeNativeElement as HTMLElement;
    await until(() => element.querySelectorAll('tbody tr').length === 2);
    (element.querySelectorAll('tbody tr')[1].querySelector('button') as HTMLButtonElement).click();
    await until(() => requests.some((r) => r.method === 'POST'));
    const post = requests.find((r) => r.method === 'POST')!;
    expect(new URL(post.url).pathname).toBe('/api/v1/platform/events/e2/redeliver');
    expect(new URL(post.url).searchParams.get('all')).toBe('true');
  });
});
