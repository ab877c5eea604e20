/** The audiences that sign in through a browser, each with its own session cookie. */
export type Audience = 'store' | 'admin' | 'platform';

const key = (audience: Audience) => `agora.csrf.${audience}`;

/**
 * The CSRF token a browser login hands out. The session cookie itself is HttpOnly; this token
 * only proves a request comes from our own page. It lives in localStorage so that a second tab
 * of the same signed-in browser can write too; it is worthless without the cookie.
 */
export const csrfTokens = {
  get(audience: Audience): string | null {
    return safeStorage()?.getItem(key(audience)) ?? null;
  },
  set(audience: Audience, token: string | null | undefined): void {
    const storage = safeStorage();
    if (!storage) {
      return;
    }
    if (token) {
      storage.setItem(key(audience), token);
    } else {
      storage.removeItem(key(audience));
    }
  },
};

function safeStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Storage can be switched off by the browser's privacy settings.
    return null;
  }
}

/** Which audience an API path belongs to, by its area prefix. */
export function audienceOf(url: string): Audience | null {
  const path = url.replace(/^[a-z]+:\/\/[^/]+/i, '');
  if (path.startsWith('/api/v1/store/')) return 'store';
  if (path.startsWith('/api/v1/admin/')) return 'admin';
  if (path.startsWith('/api/v1/platform/')) return 'platform';
  return null;
}
