import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { I18n, client, csrfTokens } from 'shared';
import { SsoLanding } from '../sso-landing';
import { STOREFRONT } from '../translations';
import { Login } from './login';

/** The network is the boundary: the page's own code runs as in the browser. */
function answer(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

describe('Login', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(STOREFRONT);
    i18n.use('en');
  });

  afterEach(() => vi.unstubAllGlobals());

  async function page(options: Response) {
    const asked: string[] = [];
    vi.stubGlobal('fetch', async (request: Request) => {
      asked.push(new URL(request.url).pathname);
      return options.clone();
    });
    const fixture = TestBed.createComponent(Login);
    await vi.waitFor(() => expect(asked).toContain('/api/v1/store/auth/sign-in-options'));
    await fixture.whenStable();
    return { fixture, element: fixture.nativeElement as HTMLElement };
  }

  const links = (element: HTMLElement) => [...element.querySelectorAll('a')].map((a) => a.textContent?.trim());

  it("offers the shop's provider when single sign-on is set up for customers", async () => {
    const { fixture, element } = await page(
      answer(200, { single_sign_on: { provider: 'id.example.com', start_path: '/api/v1/store/auth/oidc/start' } }),
    );
    const sso = [...element.querySelectorAll('a')].find((a) => a.textContent?.includes('Sign in with'));
    expect(sso?.textContent?.trim()).toBe('Sign in with id.example.com');
    // A plain link: the browser leaves the app for the server's redirect to the provider.
    expect(sso?.getAttribute('href')).toBe('/api/v1/store/auth/oidc/start');
    expect(element.querySelector('form #password')).not.toBeNull();
    TestBed.inject(I18n).use('de');
    await fixture.whenStable();
    expect(element.textContent).toContain('Anmelden mit id.example.com');
  });

  it('offers the password alone when the shop has no provider, or the question fails', async () => {
    for (const options of [
      answer(200, { single_sign_on: null }),
      answer(503, { type: 'about:blank', title: 'Unavailable', detail: '', status: 503 }, 'application/problem+json'),
    ]) {
      const { element } = await page(options);
      expect(links(element).some((text) => text?.includes('Sign in with'))).toBe(false);
      expect(element.querySelector('form #email')).not.toBeNull();
    }
  });

  describe('back from the provider', () => {
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
    const signedIn = { account, csrf_token: 'csrf-of-the-new-session' };
    let requests: { path: string; body: unknown }[];
    let navigated: string[];

    /** The provider redirect landed on `/account` with `hash`; the app then opens this page. */
    async function landed(hash: string, answers: Record<string, Response>) {
      requests = [];
      navigated = [];
      vi.stubGlobal('fetch', async (request: Request) => {
        const path = new URL(request.url).pathname;
        const text = await request.text();
        requests.push({ path, body: text ? JSON.parse(text) : null });
        if (path === '/api/v1/store/auth/sign-in-options') {
          return answer(200, { single_sign_on: { provider: 'id.example.com', start_path: '/start' } });
        }
        return (answers[path] ?? answer(404, {})).clone();
      });
      TestBed.inject(SsoLanding).capture(
        { hash, pathname: '/account', search: '' },
        { state: null, replaceState: () => undefined },
      );
      vi.spyOn(TestBed.inject(Router), 'navigateByUrl').mockImplementation(async (url) => {
        navigated.push(String(url));
        return true;
      });
      const fixture = TestBed.createComponent(Login);
      fixture.componentRef.setInput('next', '/account');
      await vi.waitFor(() => expect(requests.map((r) => r.path)).toContain('/api/v1/store/auth/sign-in-options'));
      await fixture.whenStable();
      return { fixture, element: fixture.nativeElement as HTMLElement };
    }

    function type(element: HTMLElement, id: string, value: string) {
      const input = element.querySelector<HTMLInputElement>(`#${id}`)!;
      input.value = value;
      input.dispatchEvent(new Event('input'));
    }

    function button(element: HTMLElement, text: string): HTMLButtonElement {
      const found = [...element.querySelectorAll('button')].find((b) => b.textContent?.trim() === text);
      if (!found) throw new Error(`no button ${text}`);
      return found;
    }

    async function settled(fixture: { whenStable(): Promise<unknown> }, check: () => void) {
      await vi.waitFor(async () => {
        await fixture.whenStable();
        check();
      });
    }

    afterEach(() => csrfTokens.set('store', null));

    it('asks for the second step and finishes it exactly as after a password', async () => {
      const { fixture, element } = await landed('#mfa_challenge=ch_1', {
        '/api/v1/store/auth/login/mfa': answer(200, signedIn),
      });
      expect(element.querySelector('h1')?.textContent).toBe('Second step');
      expect(element.textContent).toContain('id.example.com confirmed who you are.');
      expect(element.querySelector('#password')).toBeNull();
      type(element, 'code', ' 123456 ');
      element.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
      await settled(fixture, () => expect(navigated).toEqual(['/account']));
      expect(requests.find((r) => r.path === '/api/v1/store/auth/login/mfa')?.body).toEqual({
        challenge: 'ch_1',
        code: '123456',
      });
      expect(csrfTokens.get('store')).toBe('csrf-of-the-new-session');
    });

    it('links the account only when its holder confirms after signing in with the password', async () => {
      const { fixture, element } = await landed('#oidc_link=tok_42', {
        '/api/v1/store/auth/login': answer(200, signedIn),
        '/api/v1/store/me/oidc-link': new Response(null, { status: 204 }),
      });
      // What is going on, in plain words, and no provider button that would only lead back here.
      expect(element.querySelector('[data-testid=link-intro]')?.textContent).toContain(
        'id.example.com confirmed your email address, and this shop already has an account with it.',
      );
      expect([...element.querySelectorAll('a')].some((a) => a.textContent?.includes('Sign in with'))).toBe(false);
      type(element, 'email', 'sven@sso.example');
      type(element, 'password', 'correct horse battery');
      element.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
      await settled(fixture, () =>
        expect(element.querySelector('h1')?.textContent).toBe('Link your id.example.com sign-in to this account?'),
      );
      // Signed in, but nothing linked yet and nowhere else to go until the shopper decides.
      expect(element.textContent).toContain('(sven@sso.example)');
      expect(requests.map((r) => r.path)).not.toContain('/api/v1/store/me/oidc-link');
      expect(navigated).toEqual([]);
      button(element, 'Link id.example.com').click();
      await settled(fixture, () => expect(element.querySelector('[role=status]')?.textContent).toContain('Linked'));
      const link = requests.find((r) => r.path === '/api/v1/store/me/oidc-link');
      expect(link?.body).toEqual({ token: 'tok_42' });
      // The password sign-in's session confirms it (the API client sends its CSRF token).
      expect(csrfTokens.get('store')).toBe('csrf-of-the-new-session');
      button(element, 'Continue').click();
      await settled(fixture, () => expect(navigated).toEqual(['/account']));
    });

    it('links nothing when the shopper declines, and shows why a link failed', async () => {
      const refused = answer(
        422,
        { type: 'https://agora.dev/problems/invalid-token', title: 'Invalid token', detail: 'expired', status: 422 },
        'application/problem+json',
      );
      const { fixture, element } = await landed('#oidc_link=tok_old', {
        '/api/v1/store/auth/login': answer(200, signedIn),
        '/api/v1/store/me/oidc-link': refused,
      });
      type(element, 'email', 'sven@sso.example');
      type(element, 'password', 'correct horse battery');
      element.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
      await settled(fixture, () => expect(element.querySelector('h1')?.textContent).toContain('Link your'));
      button(element, 'Link id.example.com').click();
      await settled(fixture, () => expect(element.querySelector('[role=alert]')?.textContent).toContain('expired'));
      button(element, 'Not now').click();
      await settled(fixture, () => expect(navigated).toEqual(['/account']));
      expect(requests.filter((r) => r.path === '/api/v1/store/me/oidc-link')).toHaveLength(1);
    });
  });
});
