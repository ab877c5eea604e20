import { client, type SessionCsrfToken, type SignInOptions } from 'shared';

/*
 * Two staff calls that openapi/openapi.json does not describe yet, so the generated client lacks
 * them: the server has them for shoppers only (`…/store/auth/sign-in-options`,
 * `…/store/me/csrf-token`). They carry the names the generator will give them, so that once the
 * API describes the staff ones this file goes and the imports move to 'shared'. A server without
 * them answers 404, which the callers take as "no provider" and "no token to fetch".
 */

/** How staff sign in to this shop: the provider, when it is set up for staff. Anyone may ask. */
export const staffSignInOptions = () =>
  client.get<{ 200: SignInOptions }, unknown, false>({ url: '/api/v1/admin/auth/sign-in-options' });

/** The signed-in browser's CSRF token, for a session opened by the provider's redirect. */
export const staffCsrfToken = () =>
  client.get<{ 200: SessionCsrfToken }, unknown, false>({ url: '/api/v1/admin/me/csrf-token' });
