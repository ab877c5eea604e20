import type { I18n } from 'shared';

/** The merchant's name for an email template; the shop's own templates go by their key. */
export function templateName(i18n: I18n, key: string): string {
  const text = i18n.t(`emails.key.${key}`);
  return text === `emails.key.${key}` ? key : text;
}
