import { TestBed } from '@angular/core/testing';
import { SsoLanding, loginAddress, readLanding } from './sso-landing';

describe('readLanding', () => {
  it('reads the second step and the pending link the provider redirect carries', () => {
    expect(readLanding('#mfa_challenge=abc.123')).toEqual({ kind: 'mfa', challenge: 'abc.123' });
    expect(readLanding('#oidc_link=tok_42')).toEqual({ kind: 'link', token: 'tok_42' });
    // Percent-encoded values come back as sent.
    expect(readLanding('#oidc_link=a%2Bb')).toEqual({ kind: 'link', token: 'a+b' });
  });

  it('ignores fragments that are not the provider’s', () => {
    for (const hash of ['', '#', '#main', '#mfa_challenge=', '#oidc_link=', '#other=1']) {
      expect(readLanding(hash), hash).toBeNull();
    }
  });
});

describe('loginAddress', () => {
  it('returns the shopper to where the provider sent them, once signed in', () => {
    expect(loginAddress('/account', '')).toBe('/login?next=%2Faccount');
    expect(loginAddress('/cart', '?lang=de')).toBe('/login?next=%2Fcart%3Flang%3Dde');
    expect(loginAddress('/login', '')).toBe('/login');
  });
});

describe('SsoLanding', () => {
  function browser(hash: string, pathname = '/account', search = '') {
    const replaced: string[] = [];
    const history = {
      state: { navigationId: 1 },
      replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)),
    };
    return { location: { hash, pathname, search }, history, replaced };
  }

  it('drops the fragment from the address and sends the shopper to sign in, once', () => {
    const landing = TestBed.inject(SsoLanding);
    const { location, history, replaced } = browser('#oidc_link=tok_42');
    landing.capture(location, history);
    // The address no longer carries the token, so it stays out of history and bookmarks.
    expect(replaced).toEqual(['/login?next=%2Faccount']);
    expect(landing.take()).toEqual({ kind: 'link', token: 'tok_42' });
    expect(landing.take()).toBeNull();
  });

  it('leaves other addresses alone', () => {
    const landing = TestBed.inject(SsoLanding);
    const { location, history, replaced } = browser('#main', '/p/shirt');
    landing.capture(location, history);
    expect(replaced).toEqual([]);
    expect(landing.take()).toBeNull();
  });
});
