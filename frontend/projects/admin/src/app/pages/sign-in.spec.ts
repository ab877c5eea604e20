import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client, csrfTokens } from 'shared';
import { SsoLanding } from '../sso-landing';
import { ADMIN } from '../texts/admin';
import { SignIn } from './sign-in';

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

const notFound = () =>
  json(404, { type: 'about:blank', title: 'Not found', detail: '', status: 404 }, 'application/problem+json');

const account = {
  id: '0193',
  email: 'olga@shop.test',
  name: 'Olga',
  kind: 'staff',
  roles: ['owner'],
  disabled: false,
  email_verified: true,
  created_at: '2026-01-01T00:00:00Z',
  version: 1,
};

const STAFF_SSO = { single_sign_on: { provider: 'id.example.com', start_path: '/api/v1/admin/auth/oidc/start' } };

/** The network is the boundary: the page's own code runs as in the browser. */
function api(answers: Record<string, () => Response>) {
  const asked: { method: string; path: string; body: string }[] = [];
  vi.stubGlobal('fetch', async (request: Request) => {
    const path = new URL(request.url).pathname;
    asked.push({ method: request.method, path, body: await request.text() });
    return (answers[`${request.method} ${path}`] ?? notFound)();
  });
  return asked;
}

async function page() {
  const fixture = TestBed.createComponent(SignIn);
  await fixture.whenStable();
  return { fixture, element: fixture.nativeElement as HTMLElement };
}

const ssoLink = (element: HTMLElement) =>
  [...element.querySelectorAll('a')].find((a) => a.textContent?.includes('Sign in with'));

async function type(element: HTMLElement, selector: string, value: string) {
  const input = element.querySelector(selector) as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event('input'));
}

describe('SignIn', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([{ path: '**', children: [] }])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(ADMIN);
    i18n.use('en');
    csrfTokens.set('admin', null);
  });

  afterEach(() => vi.unstubAllGlobals());

  it("offers the shop's provider when single sign-on is set up for staff", async () => {
    const asked = api({ 'GET /api/v1/admin/auth/sign-in-options': () => json(200, STAFF_SSO) });
    const { fixture, element } = await page();
    await vi.waitFor(() => expect(ssoLink(element)).toBeDefined());
    expect(asked.map((a) => a.path)).toContain('/api/v1/admin/auth/sign-in-options');
    expect(ssoLink(element)?.textContent?.trim()).toBe('Sign in with id.example.com');
    // A plain link: the browser leaves the app for the server's redirect to the provider.
    expect(ssoLink(element)?.getAttribute('href')).toBe('/api/v1/admin/auth/oidc/start');
    expect(element.querySelector('form #password')).not.toBeNull();
    TestBed.inject(I18n).use('de');
    await fixture.whenStable();
    expect(element.textContent).toContain('Anmelden mit id.example.com');
  });

  it('offers the password alone when the shop has no staff provider, or the question fails', async () => {
    for (const options of [
      () => json(200, { single_sign_on: null }),
      () =>
        json(503, { type: 'about:blank', title: 'Unavailable', detail: '', status: 503 }, 'application/problem+json'),
      notFound,
    ]) {
      const asked = api({ 'GET /api/v1/admin/auth/sign-in-options': options });
      const { element } = await page();
      await vi.waitFor(() => expect(asked.length).toBeGreaterThan(0));
      await new Promise((r) => setTimeout(r));
      expect(ssoLink(element)).toBeUndefined();
      expect(element.querySelector('form #email')).not.toBeNull();
    }
  });

  it('asks for the second step the provider left in the address, and finishes at the MFA endpoint', async () => {
    const asked = api({
      'GET /api/v1/admin/auth/sign-in-options': () => json(200, STAFF_SSO),
      'POST /api/v1/admin/auth/login/mfa': () => json(200, { account, csrf_token: 'csrf-after-mfa' }),
      'GET /api/v1/admin/me': () => json(200, account),
      'GET /api/v1/admin/me/permissions': () => json(200, { permissions: [] }),
    });
    TestBed.inject(SsoLanding).capture(
      { hash: '#mfa_challenge=ch-1', pathname: '/admin/', search: '' },
      { state: null, replaceState: () => undefined },
    );
    const { fixture, element } = await page();
    await vi.waitFor(() => expect(element.textContent).toContain('id.example.com confirmed who you are'));
    expect(element.querySelector('#password')).toBeNull();
    await type(element, '#code', '123456');
    (element.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await vi.waitFor(() => expect(csrfTokens.get('admin')).toBe('csrf-after-mfa'));
    await fixture.whenStable();
    const mfa = asked.find((a) => a.path === '/api/v1/admin/auth/login/mfa');
    expect(JSON.parse(mfa?.body ?? '{}')).toEqual({ challenge: 'ch-1', code: '123456' });
  });

  it('links the provider to an existing account only after its password and a click', async () => {
    const asked = api({
      'GET /api/v1/admin/auth/sign-in-options': () => json(200, STAFF_SSO),
      'POST /api/v1/admin/auth/login': () => json(200, { account, csrf_token: 'csrf-1' }),
      'GET /api/v1/admin/me': () => json(200, account),
      'GET /api/v1/admin/me/permissions': () => json(200, { permissions: ['staff.manage'] }),
      'POST /api/v1/admin/me/oidc-link': () => new Response(null, { status: 204 }),
    });
    TestBed.inject(SsoLanding).capture(
      { hash: '#oidc_link=link-1', pathname: '/admin/', search: '' },
      { state: null, replaceState: () => undefined },
    );
    const { fixture, element } = await page();
    await vi.waitFor(() => expect(element.querySelector('[data-testid=link-intro]')).not.toBeNull());
    // While the link waits for the password, the provider is not offered again.
    expect(ssoLink(element)).toBeUndefined();
    await type(element, '#email', 'olga@shop.test');
    await type(element, '#password', 'her own password');
    (element.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await vi.waitFor(() => expect(element.textContent).toContain('Link your id.example.com sign-in to this account?'));
    expect(asked.some((a) => a.path === '/api/v1/admin/me/oidc-link')).toBe(false);
    const linkButton = [...element.querySelectorAll('button')].find((b) =>
      b.textContent?.includes('Link id.example.com'),
    );
    linkButton?.click();
    await vi.waitFor(() => expect(element.textContent).toContain('Sign-in linked'));
    await fixture.whenStable();
    const link = asked.find((a) => a.path === '/api/v1/admin/me/oidc-link');
    expect(link?.method).toBe('POST');
    expect(JSON.parse(link?.body ?? '{}')).toEqual({ token: 'link-1' });
    // The login answer's token is what the API glue sends with it (see shared's `decorate`).
    expect(csrfTokens.get('admin')).toBe('csrf-1');
  });
});
