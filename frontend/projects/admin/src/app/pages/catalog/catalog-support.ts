import { Injectable, signal } from '@angular/core';
import { getShop, getSoldCurrencies, outcome, type I18n, type Product } from 'shared';

/** A text per locale, as the catalog API stores names, descriptions, SEO fields and slugs. */
export type Localized = Record<string, string>;

/** The `If-Match` header for a catalog write: the version the form was loaded with. */
export function ifMatch(version: number): { 'If-Match': string } {
  return { 'If-Match': `"${version}"` };
}

/** A localized text in the wanted locale, else the shop's default, else any locale it has. */
export function pick(text: Localized | null | undefined, locale: string, fallback: string): string {
  if (!text) return '';
  return text[locale] || text[fallback] || Object.values(text).find((t) => t) || '';
}

/** The entries that hold something: the API treats a missing locale as "not translated". */
export function filled(text: Localized): Localized {
  return Object.fromEntries(Object.entries(text).filter(([, value]) => value.trim() !== ''));
}

/** How many digits after the decimal point a currency's minor unit has (2 for EUR, 0 for JPY). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Minor units as the merchant types them: 1999 EUR → "19.99". */
export function toDecimal(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined) return '';
  const digits = minorDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/**
 * What the merchant typed as minor units: "19.99" EUR → 1999, "" → null. A comma works as the
 * decimal point too; anything that is not an amount gives NaN, which the form refuses itself.
 */
export function toMinor(typed: string, currency: string): number | null {
  const text = typed.trim().replace(',', '.');
  if (text === '') return null;
  if (!/^-?\d+(\.\d+)?$/.test(text)) return Number.NaN;
  const digits = minorDigits(currency);
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  if (fraction.length > digits) return Number.NaN;
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  return text.startsWith('-') ? -minor : minor;
}

/** An amount for people: 1999 EUR → "€19.99" in the admin's language. */
export function formatMoney(minor: number, currency: string, locale = 'en'): string {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** minorDigits(currency));
  } catch {
    return `${toDecimal(minor, currency)} ${currency}`;
  }
}

/** The price range a product's list row shows: its variants' prices in one currency. */
export function priceRange(product: Product, currency: string, locale = 'en'): string {
  const amounts = product.variants
    .flatMap((v) => v.prices)
    .filter((p) => p.price.currency === currency)
    .map((p) => p.price.amount);
  if (!amounts.length) return '—';
  const low = Math.min(...amounts);
  const high = Math.max(...amounts);
  return low === high
    ? formatMoney(low, currency, locale)
    : `${formatMoney(low, currency, locale)} – ${formatMoney(high, currency, locale)}`;
}

/** An ISO instant as a `datetime-local` input shows it (the browser's time zone), and back. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

export function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

/** Comma-separated words as a list, empty pieces dropped: "a, b,, c" → ["a", "b", "c"]. */
export function words(text: string): string[] {
  return text
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

/**
 * The shop's languages and currencies, which every catalog form is laid out by (a tab per
 * language, a price column per currency). Loaded once per visit to the catalog screens.
 */
@Injectable({ providedIn: 'root' })
export class CatalogShop {
  readonly locales = signal<string[]>(['en']);
  readonly defaultLocale = signal('en');
  readonly currencies = signal<string[]>([]);
  readonly defaultCurrency = signal('');
  private loaded: Promise<void> | null = null;

  ensureLoaded(): Promise<void> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  /** After the sold currencies changed. */
  async reload(): Promise<void> {
    this.loaded = this.load();
    await this.loaded;
  }

  private async load(): Promise<void> {
    const [shop, sold] = await Promise.all([outcome(getShop()), outcome(getSoldCurrencies())]);
    if (shop.ok) {
      this.locales.set(shop.data.locales.length ? shop.data.locales : [shop.data.default_locale]);
      this.defaultLocale.set(shop.data.default_locale);
    }
    if (sold.ok) {
      this.currencies.set(sold.data.currencies);
      this.defaultCurrency.set(sold.data.default_currency);
    }
    if (!shop.ok || !sold.ok) this.loaded = null;
  }
}

export const LOCALE_NAMES: Record<string, string> = { en: 'English', de: 'German', fr: 'French', es: 'Spanish' };

export function localeName(code: string): string {
  return LOCALE_NAMES[code] ?? code;
}

/**
 * A language's name in the member's language ("Deutsch" in the German admin), for the language
 * tabs and "Name (…)" labels of every catalog editor: the catalog texts, loaded with the app,
 * name the shop languages we know; any other is named in English, or by its code.
 */
export function languageName(i18n: I18n, code: string): string {
  const key = `catalog.language.${code}`;
  const name = i18n.t(key);
  return name === key ? localeName(code) : name;
}
