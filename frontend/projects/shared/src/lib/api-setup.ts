import { inject, provideAppInitializer, type EnvironmentProviders } from '@angular/core';
import { client } from './api/client.gen';
import { I18n } from './i18n';
import { audienceOf, csrfTokens } from './session';

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/**
 * Points the generated client at our own origin (the shop is resolved from the host, as for
 * any API call) and adds what every browser request needs: the visitor's language, and the
 * session's CSRF token on unsafe requests.
 */
export function provideAgoraApi(): EnvironmentProviders {
  return provideAppInitializer(() => {
    const i18n = inject(I18n);
    client.setConfig({ baseUrl: '', credentials: 'same-origin' });
    client.interceptors.request.use((request) => decorate(request, i18n.locale()));
  });
}

/** The headers one request gets; exported for the unit tests. */
export function decorate(request: Request, locale: string): Request {
  request.headers.set('Accept-Language', locale);
  const audience = audienceOf(request.url);
  if (audience && !SAFE_METHODS.includes(request.method.toUpperCase())) {
    const token = csrfTokens.get(audience);
    if (token) {
      request.headers.set('X-CSRF-Token', token);
    }
  }
  return request;
}
