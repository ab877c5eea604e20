import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { I18n, client } from 'shared';
import { STOREFRONT } from '../translations';
import { Register } from './register';

/** The network is the boundary: the page's own code runs as in the browser. */
function answer(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

describe('Register', () => {
  let requests: Request[];

  beforeEach(() => {
    requests = [];
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.configureTestingModule({ providers: [provideRouter([])] });
    const i18n = TestBed.inject(I18n);
    i18n.register(STOREFRONT);
    i18n.use('en');
  });

  afterEach(() => vi.unstubAllGlobals());

  async function submit(fixture: ReturnType<typeof TestBed.createComponent<Register>>, email: string) {
    const page: HTMLElement = fixture.nativeElement;
    const type = (id: string, value: string) => {
      const input = page.querySelector<HTMLInputElement>(`#${id}`)!;
      input.value = value;
      input.dispatchEvent(new Event('input'));
    };
    type('name', 'Ada');
    type('email', email);
    type('password', 'correct horse battery');
    page.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    await vi.waitFor(() => expect(requests.length).toBe(1));
    await fixture.whenStable();
  }

  it('shows the API field error next to the field it names', async () => {
    vi.stubGlobal('fetch', async (request: Request) => {
      requests.push(request);
      return answer(
        422,
        {
          type: 'https://agora.dev/problems/validation-failed',
          title: 'Validation failed',
          detail: 'the request has invalid fields',
          status: 422,
          errors: [{ field: 'email', message: 'is not an email address' }],
        },
        'application/problem+json',
      );
    });
    const fixture = TestBed.createComponent(Register);
    await fixture.whenStable();
    await submit(fixture, 'not-an-email');
    const page: HTMLElement = fixture.nativeElement;
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(page.querySelector('#email-error')).not.toBeNull();
    });
    const email = page.querySelector<HTMLInputElement>('#email')!;
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(email.getAttribute('aria-describedby')).toBe('email-error');
    expect(page.querySelector('#email-error')?.textContent).toContain('is not an email address');
    expect(await requests[0].json()).toEqual({ name: 'Ada', email: 'not-an-email', password: 'correct horse battery' });
  });

  it('asks the new customer to confirm their address once registered', async () => {
    vi.stubGlobal('fetch', async (request: Request) => {
      requests.push(request);
      return answer(201, { id: '1', email: 'ada@example.com', name: 'Ada', kind: 'customer', roles: [] });
    });
    const fixture = TestBed.createComponent(Register);
    await fixture.whenStable();
    await submit(fixture, 'ada@example.com');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(fixture.nativeElement.querySelector('[role=status]')?.textContent).toContain('ada@example.com');
    });
    expect(requests[0].url).toBe('http://shop.test/api/v1/store/auth/register');
  });
});
