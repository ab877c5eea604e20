import { TestBed } from '@angular/core/testing';
import { client, csrfTokens } from 'shared';
import { StaffSession } from './staff-session';

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

const account = {
  id: '0193',
  email: 'kim@shop.test',
  name: 'Kim',
  kind: 'staff',
  roles: ['key_keeper'],
  disabled: false,
  email_verified: true,
  created_at: '2026-01-01T00:00:00Z',
  version: 1,
};

/** The API as the browser meets it: the network is stubbed, the session's code is real. */
function api(permissions: Response, csrf?: string) {
  const asked: string[] = [];
  vi.stubGlobal('fetch', async (request: Request) => {
    const path = new URL(request.url).pathname;
    asked.push(path);
    if (path === '/api/v1/admin/me') return json(200, account);
    if (path === '/api/v1/admin/me/permissions') return permissions.clone();
    if (path === '/api/v1/admin/me/csrf-token' && csrf) return json(200, { csrf_token: csrf });
    return json(404, { type: 'about:blank', title: 'Not found', detail: '', status: 404 }, 'application/problem+json');
  });
  return asked;
}

describe('StaffSession', () => {
  beforeEach(() => client.setConfig({ baseUrl: 'http://shop.test' }));
  afterEach(() => vi.unstubAllGlobals());

  it("offers the sections the member's permissions open", async () => {
    api(json(200, { permissions: ['api_keys.manage', 'shop.read'] }));
    const session = TestBed.inject(StaffSession);
    await session.refresh();
    expect(session.signedIn()).toBe(true);
    expect(session.can('api_keys.manage')).toBe(true);
    expect(session.can('staff.manage')).toBe(false);
    expect(session.destinations().map((d) => d.label)).toEqual(['Overview', 'API keys', 'Your account']);
  });

  it('sends a member the shop requires to enrol an authenticator to their account only', async () => {
    api(
      json(
        403,
        {
          type: 'https://agora.dev/problems/mfa-enrolment-required',
          title: 'Forbidden',
          detail: 'enrol an authenticator first',
          status: 403,
        },
        'application/problem+json',
      ),
    );
    const session = TestBed.inject(StaffSession);
    await session.refresh();
    expect(session.mfaEnrolmentRequired()).toBe(true);
    expect(session.destinations()).toEqual([]);
  });

  it("takes the session's CSRF token when signed in by the provider's redirect alone", async () => {
    // One left from an earlier session would be refused by this one.
    csrfTokens.set('admin', 'stale');
    api(json(200, { permissions: ['catalog.manage'] }), 'fresh');
    const session = TestBed.inject(StaffSession);
    await session.refresh();
    expect(session.signedIn()).toBe(true);
    expect(csrfTokens.get('admin')).toBe('fresh');
  });

  it('keeps the login answer’s token without asking again', async () => {
    const asked = api(json(200, { permissions: [] }), 'fresh');
    const session = TestBed.inject(StaffSession);
    await session.signedInWith('from-login');
    expect(csrfTokens.get('admin')).toBe('from-login');
    expect(asked).not.toContain('/api/v1/admin/me/csrf-token');
  });

  it('is signed out when the API does not know the browser', async () => {
    vi.stubGlobal('fetch', async () =>
      json(
        401,
        { type: 'https://agora.dev/problems/unauthorized', title: 'Unauthorized', detail: '', status: 401 },
        'application/problem+json',
      ),
    );
    const session = TestBed.inject(StaffSession);
    await session.refresh();
    expect(session.signedIn()).toBe(false);
    expect(session.destinations().map((d) => d.label)).toEqual(['Overview', 'Your account']);
  });
});
