import type { Locale } from 'shared';

/** An instant as the member reads dates in their language (`1 Dec 2026, 20:15` / `01.12.2026, 20:15`). */
export function when(iso: string | null | undefined, locale: Locale): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return new Intl.DateTimeFormat(locale === 'de' ? 'de-DE' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(date);
}
