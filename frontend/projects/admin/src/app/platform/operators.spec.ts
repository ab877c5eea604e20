import { TestBed } from '@angular/core/testing';
import { I18n, client, type Operator } from 'shared';
import { PLATFORM } from '../texts/platform';
import { OperatorSession } from './operator-session';
import { PlatformOperatorsPage } from './operators';

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

const me: Operator = { id: 'op-me', email: 'me@platform.test', name: 'Mia', created_at: '2026-01-01T00:00:00Z' };
const other: Operator = { id: 'op-2', email: 'ola@platform.test', name: 'Ola', created_at: '2026-02-01T00:00:00Z' };
const gone: Operator = {
  id: 'op-3',
  email: 'gus@platform.test',
  name: 'Gus',
  created_at: '2026-03-01T00:00:00Z',
  disabled_at: '2026-04-01T00:00:00Z',
};

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the operators page', () => {
  let requests: { method: string; path: string; body: string }[];

  beforeEach(() => {
    requests = [];
    client.setConfig({ baseUrl: 'http://platform.test' });
    vi.stubGlobal('fetch', async (request: Request) => {
      const path = new URL(request.url).pathname;
      requests.push({ method: request.method, path, body: await request.text() });
      if (path === '/api/v1/platform/operators' && request.method === 'GET')
        return json(200, { items: [me, other, gone] });
      if (path === '/api/v1/platform/operators' && request.method === 'POST') {
        const body = JSON.parse(requests.at(-1)!.body);
        if (body.password.length < 12) {
          return json(
            422,
            {
              type: 'https://agora.dev/problems/validation',
              title: 'Validation failed',
              status: 422,
              errors: [{ field: 'password', message: 'must be at least 12 characters' }],
            },
            'application/problem+json',
          );
        }
        return json(201, { id: 'op-4', email: body.email, name: body.name, created_at: '2026-05-01T00:00:00Z' });
      }
      if (path.endsWith('/disable')) return json(200, { ...other, disabled_at: '2026-05-01T00:00:00Z' });
      return json(200, { ...gone, disabled_at: null });
    });
    TestBed.inject(I18n).register(PLATFORM);
    TestBed.inject(OperatorSession).operator.set(me);
  });
  afterEach(() => vi.unstubAllGlobals());

  async function page() {
    const fixture = TestBed.createComponent(PlatformOperatorsPage);
    const element = fixture.nativeElement as HTMLElement;
    await until(() => element.querySelectorAll('tbody tr').length === 3);
    await fixture.whenStable();
    return { fixture, element };
  }

  it('offers disabling others, enabling the disabled, and nothing against oneself', async () => {
    const { element } = await page();
    const buttons = [...element.querySelectorAll('tbody button')].map((b) => b.getAttribute('aria-label'));
    expect(buttons).toEqual(['Disable Ola', 'Enable Gus']);
    expect(element.querySelector('tbody tr')?.textContent).toContain('(you)');
  });

  it('disables an operator and says so', async () => {
    const { element } = await page();
    (element.querySelector('button[aria-label="Disable Ola"]') as HTMLButtonElement).click();
    await until(() => !!element.querySelector('[role=status]'));
    expect(requests.some((r) => r.method === 'POST' && r.path === '/api/v1/platform/operators/op-2/disable')).toBe(
      true,
    );
    expect(element.querySelector('[role=status]')?.textContent).toContain('Ola is disabled.');
  });

  it('shows the API’s field error under the password, then adds the operator', async () => {
    const { fixture, element } = await page();
    const type = async (id: string, value: string) => {
      const input = element.querySelector(`#${id}`) as HTMLInputElement;
      input.value = value;
      input.dispatchEvent(new Event('input'));
      await fixture.whenStable();
    };
    await type('operator-email', 'new@platform.test');
    await type('operator-name', 'Nia');
    await type('operator-password', 'short');
    (element.querySelector('form button[type=submit]') as HTMLButtonElement).click();
    await until(() => !!element.querySelector('#operator-password-error'));
    await fixture.whenStable();
    expect(element.querySelector('#operator-password-error')?.textContent).toContain('must be at least 12 characters');
    expect(element.querySelector('#operator-password')?.getAttribute('aria-invalid')).toBe('true');
    expect(element.querySelector('#operator-password')?.getAttribute('aria-describedby')).toBe(
      'operator-password-hint operator-password-error',
    );
    await type('operator-password', 'a long enough password');
    (element.querySelector('form button[type=submit]') as HTMLButtonElement).click();
    await until(() => !!element.querySelector('[role=status]'));
    await fixture.whenStable();
    expect(element.querySelector('[role=status]')?.textContent).toContain('Nia can now sign in.');
    expect(element.querySelector('#operator-password-error')).toBeNull();
    const created = requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/platform/operators').at(-1)!;
    expect(JSON.parse(created.body)).toEqual({
      email: 'new@platform.test',
      name: 'Nia',
      password: 'a long enough password',
    });
  });
});
