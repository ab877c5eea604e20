import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { I18n, client } from 'shared';
import { PLATFORM } from '../texts/platform';
import { PlatformJobsPage, retryable, type Job } from './jobs';

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

function job(id: string, state: string, lastError: string | null = null): Job {
  return {
    job_id: id,
    kind: 'webhooks.deliver',
    tenant: 'demo',
    state,
    attempts: state === 'succeeded' ? 1 : 3,
    max_attempts: 20,
    run_at: '2026-12-01T10:05:00Z',
    created_at: '2026-12-01T10:00:00Z',
    finished_at: state === 'succeeded' ? '2026-12-01T10:00:01Z' : null,
    last_error: lastError,
    payload: { endpoint_id: 'e1' },
  };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The platform's jobs API as the browser meets it; `retry` decides how a retry is answered. */
function api(jobs: Job[], retry: () => Response) {
  const requests: Request[] = [];
  vi.stubGlobal('fetch', async (request: Request) => {
    requests.push(request);
    const url = new URL(request.url);
    if (url.pathname === '/api/v1/platform/jobs') return json(200, { items: jobs, next_cursor: 'older-page' });
    if (url.pathname.endsWith('/retry') && request.method === 'POST') return retry();
    return json(404, { type: 'about:blank', title: 'Not found', status: 404 }, 'application/problem+json');
  });
  return requests;
}

async function open(url: string) {
  TestBed.configureTestingModule({
    providers: [provideRouter([{ path: 'platform/jobs', component: PlatformJobsPage }])],
  });
  TestBed.inject(I18n).register(PLATFORM);
  const harness = await RouterTestingHarness.create(url);
  const element = harness.routeNativeElement as HTMLElement;
  return { harness, element };
}

describe('the jobs page', () => {
  beforeEach(() => client.setConfig({ baseUrl: 'http://platform.test' }));
  afterEach(() => vi.unstubAllGlobals());

  it('offers retry only for failed, dead and cancelled jobs', () => {
    expect(
      ['queued', 'running', 'retry', 'succeeded', 'dead', 'cancelled'].filter((s) => retryable(job('j', s))),
    ).toEqual(['retry', 'dead', 'cancelled']);
  });

  it('asks with the filters from the address and shows failed jobs with their error', async () => {
    const requests = api([job('j1', 'dead', 'connect: connection refused'), job('j2', 'succeeded')], () =>
      json(200, { queued: 1 }),
    );
    const { harness, element } = await open('/platform/jobs?state=dead&kind=webhooks.deliver');
    await until(() => element.querySelectorAll('tbody tr').length === 2);
    await harness.fixture.whenStable();
    const query = new URL(requests[0].url).searchParams;
    expect(query.get('state')).toBe('dead');
    expect(query.get('kind')).toBe('webhooks.deliver');
    expect(query.get('limit')).toBe('25');
    const rows = [...element.querySelectorAll('tbody tr')];
    expect(rows[0].textContent).toContain('connect: connection refused');
    expect(rows[0].textContent).toContain('dead');
    expect(rows[0].textContent).toContain('3 of 20');
    expect(rows[0].querySelector('button')?.getAttribute('aria-label')).toBe('Retry webhooks.deliver job j1');
    expect(rows[1].querySelector('button')).toBeNull();
    expect((element.querySelector('#job-state') as HTMLSelectElement).value).toBe('dead');
  });

  it('retries a job, says so and shows the page again', async () => {
    const requests = api([job('j1', 'retry', 'HTTP 500')], () => json(200, { queued: 1 }));
    const { harness, element } = await open('/platform/jobs');
    await until(() => element.querySelectorAll('tbody tr button').length === 1);
    (element.querySelector('tbody tr button') as HTMLButtonElement).click();
    await until(() => !!element.querySelector('[role=status]'));
    await harness.fixture.whenStable();
    const retry = requests.find((r) => r.method === 'POST');
    expect(new URL(retry!.url).pathname).toBe('/api/v1/platform/jobs/j1/retry');
    expect(element.querySelector('[role=status]')?.textContent).toContain('The webhooks.deliver job is queued again');
    await until(() => requests.filter((r) => r.method === 'GET').length === 2);
  });

  it('shows the problem when the job can no longer be retried', async () => {
    api([job('j1', 'dead')], () =>
      json(
        409,
        {
          type: 'https://agora.dev/problems/job-not-retryable',
          title: 'Conflict',
          detail: 'no such job in state retry, dead or cancelled',
          status: 409,
        },
        'application/problem+json',
      ),
    );
    const { harness, element } = await open('/platform/jobs');
    await until(() => element.querySelectorAll('tbody tr button').length === 1);
    (element.querySelector('tbody tr button') as HTMLButtonElement).click();
    await until(() => !!element.querySelector('[role=alert]'));
    await harness.fixture.whenStable();
    expect(element.querySelector('[role=alert]')?.textContent).toContain(
      'no such job in state retry, dead or cancelled',
    );
    expect(element.querySelector('[role=status]')).toBeNull();
  });
});
