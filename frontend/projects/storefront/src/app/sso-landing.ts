import { Injectable } from '@angular/core';

/**
 * What the shop's sign-in provider left in the address it sent the shopper back to, when the
 * redirect alone could not sign them in: a second factor to show (`#mfa_challenge=…`), or an
 * existing account of the same email whose holder must confirm the link (`#oidc_link=…`). The
 * server puts them in the fragment so they never reach access logs or Referer headers.
 */
export type Landing = { kind: 'mfa'; challenge: string } | { kind: 'link'; token: string };

/** The landing a URL fragment carries (`#mfa_challenge=…` or `#oidc_link=…`), if any. */
export function readLanding(hash: string): Landing | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const challenge = params.get('mfa_challenge');
  if (challenge) return { kind: 'mfa', challenge };
  const token = params.get('oidc_link');
  if (token) return { kind: 'link', token };
  return null;
}

/**
 * Where the sign-in page sends the shopper once they are done: the page the provider returned
 * them to (the shop's configured return path), unless that is the sign-in page itself.
 */
export function loginAddress(path: string, search: string): string {
  if (path === '/login' || path.startsWith('/login/')) return '/login';
  return `/login?next=${encodeURIComponent(path + search)}`;
}

/**
 * Reads the provider's landing once, as the app starts and before the router sees the address:
 * the return path may be a page that needs a session (`/account` by default), whose guard would
 * redirect and lose the fragment. The fragment is dropped from the address (it is single use and
 * should not stay in history or be bookmarked) and the shopper goes to the sign-in page, which
 * finishes the second step or asks for the password to confirm the link.
 */
@Injectable({ providedIn: 'root' })
export class SsoLanding {
  private pending: Landing | null = null;

  capture(
    location: Pick<Location, 'hash' | 'pathname' | 'search'>,
    history: Pick<History, 'replaceState' | 'state'>,
  ): void {
    const landing = readLanding(location.hash);
    if (!landing) return;
    this.pending = landing;
    history.replaceState(history.state, '', loginAddress(location.pathname, location.search));
  }

  /** The landing not yet handled, handed out once. */
  take(): Landing | null {
    const landing = this.pending;
    this.pending = null;
    return landing;
  }
}
