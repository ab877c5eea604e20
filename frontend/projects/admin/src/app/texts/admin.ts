import type { Translations } from 'shared';

/** The admin's frame and the pages it had before the shop-operations screens. */
export const ADMIN: Translations = {
  en: {
    'nav.admin': 'Admin',
    'nav.overview': 'Overview',
    'nav.staff': 'Staff',
    'nav.roles': 'Roles',
    'nav.api-keys': 'API keys',
    'nav.security': 'Security policy',
    'nav.account': 'Your account',
    'shell.mfa-required':
      'This shop requires two-step verification. Set up your authenticator app under “Your account” to continue.',
  },
  de: {
    'nav.admin': 'Verwaltung',
    'nav.overview': 'Übersicht',
    'nav.staff': 'Mitarbeiter',
    'nav.roles': 'Rollen',
    'nav.api-keys': 'API-Schlüssel',
    'nav.security': 'Sicherheitsrichtlinie',
    'nav.account': 'Ihr Konto',
    'shell.mfa-required':
      'Dieser Shop verlangt die Zwei-Schritt-Verifizierung. Richten Sie unter „Ihr Konto“ Ihre Authenticator-App ein, um fortzufahren.',
  },
};
