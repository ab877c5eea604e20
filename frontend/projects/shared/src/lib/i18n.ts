import { Injectable, computed, signal } from '@angular/core';

export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
export type Dictionary = Record<string, string>;
export type Translations = Record<Locale, Dictionary>;

const STORAGE_KEY = 'agora.locale';

/** Strings shared by both apps: the common components speak through these. */
const COMMON: Translations = {
  en: {
    'common.language': 'Language',
    'common.reload': 'Reload and reapply',
    'common.conflict':
      'Someone else changed this since you opened it. Reload to see their change, then apply yours again.',
    'common.fix-fields': 'Please correct the highlighted fields.',
    'common.loading': 'Loading…',
    'common.save': 'Save',
    'common.cancel': 'Cancel',
    'common.delete': 'Delete',
    'common.saved': 'Saved.',
    'common.sign-out': 'Sign out',
    'common.skip': 'Skip to main content',
  },
  de: {
    'common.language': 'Sprache',
    'common.reload': 'Neu laden und erneut anwenden',
    'common.conflict':
      'Jemand anderes hat dies inzwischen geändert. Laden Sie neu, um die Änderung zu sehen, und wenden Sie Ihre dann erneut an.',
    'common.fix-fields': 'Bitte korrigieren Sie die markierten Felder.',
    'common.loading': 'Wird geladen…',
    'common.save': 'Speichern',
    'common.cancel': 'Abbrechen',
    'common.delete': 'Löschen',
    'common.saved': 'Gespeichert.',
    'common.sign-out': 'Abmelden',
    'common.skip': 'Zum Hauptinhalt springen',
  },
};

/**
 * The visitor's language: English or German, switchable at any time. Templates call `t(key)`,
 * which reads the locale signal, so every text on screen follows a switch at once. The chosen
 * locale is remembered, set as the document's `lang` and sent to the API as `Accept-Language`.
 */
@Injectable({ providedIn: 'root' })
export class I18n {
  private readonly dictionaries = signal<Translations>(COMMON);
  readonly locale = signal<Locale>(initialLocale());
  private readonly current = computed(() => this.dictionaries()[this.locale()]);

  constructor() {
    applyLang(this.locale());
  }

  /** Adds an app's own strings. */
  register(translations: Translations): void {
    this.dictionaries.update((all) => ({
      en: { ...all.en, ...translations.en },
      de: { ...all.de, ...translations.de },
    }));
  }

  use(locale: Locale): void {
    this.locale.set(locale);
    applyLang(locale);
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, locale);
    } catch {
      // Not remembered; the switch still applies to this page.
    }
  }

  /** The text for `key` in the current locale, `{name}` placeholders filled from `params`. */
  t(key: string, params?: Record<string, string | number>): string {
    const text = this.current()[key] ?? this.dictionaries().en[key] ?? key;
    if (!params) {
      return text;
    }
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  }
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

function initialLocale(): Locale {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (isLocale(saved)) {
      return saved;
    }
  } catch {
    // Fall through to the browser's preference.
  }
  const preferred = globalThis.navigator?.language?.slice(0, 2);
  return isLocale(preferred) ? preferred : 'en';
}

function applyLang(locale: Locale): void {
  if (globalThis.document) {
    globalThis.document.documentElement.lang = locale;
  }
}
