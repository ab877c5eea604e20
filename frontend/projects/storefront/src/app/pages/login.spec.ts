import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
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
});
