import { decorate } from './api-setup';
import { audienceOf, csrfTokens } from './session';

describe('browser sessions', () => {
  afterEach(() => localStorage.clear());

  it('tells the audience of an API path by its area', () => {
    expect(audienceOf('/api/v1/store/me')).toBe('store');
    expect(audienceOf('http://demo.localhost:8080/api/v1/admin/staff')).toBe('admin');
    expect(audienceOf('/api/v1/platform/tenants')).toBe('platform');
    expect(audienceOf('/healthz')).toBeNull();
  });

  it('sends the CSRF token of the right audience on unsafe requests only', () => {
    csrfTokens.set('store', 'store-token');
    csrfTokens.set('admin', 'admin-token');
    const post = decorate(new Request('http://shop.test/api/v1/store/me/addresses', { method: 'POST' }), 'de');
    expect(post.headers.get('X-CSRF-Token')).toBe('store-token');
    expect(post.headers.get('Accept-Language')).toBe('de');
    const adminDelete = decorate(new Request('http://shop.test/api/v1/admin/api-keys/1', { method: 'DELETE' }), 'en');
    expect(adminDelete.headers.get('X-CSRF-Token')).toBe('admin-token');
    const get = decorate(new Request('http://shop.test/api/v1/store/me'), 'en');
    expect(get.headers.get('X-CSRF-Token')).toBeNull();
    expect(get.headers.get('Accept-Language')).toBe('en');
  });

  it('forgets a token on sign-out', () => {
    csrfTokens.set('store', 'abc');
    csrfTokens.set('store', null);
    expect(csrfTokens.get('store')).toBeNull();
    const post = decorate(new Request('http://shop.test/api/v1/store/auth/logout', { method: 'POST' }), 'en');
    expect(post.headers.has('X-CSRF-Token')).toBe(false);
  });
});
