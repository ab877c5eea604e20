import { Injectable } from '@angular/core';

/**
 * What the shop's sign-in provider left in the address it sent a staff member back to, when the
 * redirect alone could not sign them in: a second factor to show (`#mfa_challenge=…`), or an
 * existing account of the same email whose holder must confirm the link (`#oidc_link=…`). The
 * server puts them in the fragment so they never reach access logs or Referer headers.
 */
export type Landing = { kind: 'mfa'; challenge: string } | { kind: 'link'; token: string };

/** Where the admin app is served (index.html's `<base href>`): router paths are relative to it. */
export const ADMIN_BASE = '/admin/';

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
 * The sign-in page's address (as the browser shows it) for a landing on `path`: the page the
 * provider returned the member to (the provider's configured return path) becomes where the
 * sign-in page sends them once done, unless that is the admin's start or the sign-in page.
 */
export function signInAddress(path: string, search: string): string {
  const inApp = path.startsWith(ADMIN_BASE) ? path.slice(ADMIN_BASE.length - 1) : '/';
  const signIn = `${ADMIN_BASE}sign-in`;
  if (inApp === '/' || inApp === '/sign-in' || inApp.startsWith('/sign-in/')) return signIn;
  return `${signIn}?next=${encodeURIComponent(inApp + search)}`;
}

/**
 * Reads the provider's landing once, as the app starts and before the router sees the address:
 * the return path is usually a page that needs a session, whose guard would redirect to the
 * sign-in page and lose the fragment. The fragment is dropped from the address (it is single use
 * and should not stay in history or be bookmarked) and the member goes to the sign-in page, which
 * asks for the second factor, or for the password before confirming the link.
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
    history.replaceState(history.state, '', signInAddress(location.pathname, location.search));
  }

  /** The landing not yet handled, handed out once. */
  take(): Landing | null {
    const landing = this.pending;
    this.pending = null;
    return landing;
  }
}
