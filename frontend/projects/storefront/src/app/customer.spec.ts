import { TestBed } from '@angular/core/testing';
import { client, csrfTokens } from 'shared';
import { Customer } from './customer';

function answer(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

const account = {
  id: 'c1',
  email: 'sven@sso.example',
  name: 'Sven',
  kind: 'customer',
  roles: [],
  disabled: false,
  email_verified: true,
  created_at: '2026-01-01T00:00:00Z',
  version: 1,
};

describe('Customer', () => {
  let asked: string[];

  function api(signedIn: boolean) {
    asked = [];
    vi.stubGlobal('fetch', async (request: Request) => {
      const path = new URL(request.url).pathname;
      asked.push(path);
      if (!signedIn) {
        return answer(
          401,
          { type: 'about:blank', title: 'Unauthorized', detail: '', status: 401 },
          'application/problem+json',
        );
      }
      if (path === '/api/v1/store/me') return answer(200, account);
      if (path === '/api/v1/store/me/csrf-token') return answer(200, { csrf_token: 'token-of-this-session' });
      return answer(404, {});
    });
  }

  beforeEach(() => client.setConfig({ baseUrl: 'http://shop.test' }));
  afterEach(() => {
    vi.unstubAllGlobals();
    csrfTokens.set('store', null);
  });

  it('takes the session’s CSRF token when it arrives signed in without a login answer', async () => {
    // A token left from an earlier session would be refused: the session's own replaces it.
    csrfTokens.set('store', 'token-of-an-old-session');
    api(true);
    const customer = TestBed.inject(Customer);
    await customer.refresh();
    expect(customer.account()?.email).toBe('sven@sso.example');
    expect(csrfTokens.get('store')).toBe('token-of-this-session');
  });

  it('asks for no token when nobody is signed in', async () => {
    api(false);
    const customer = TestBed.inject(Customer);
    await customer.refresh();
    expect(customer.signedIn()).toBe(false);
    expect(asked).toEqual(['/api/v1/store/me']);
  });
});
