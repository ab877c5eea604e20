import type { Translations } from 'shared';

/** The texts of the pricing section's customer groups page (registered when the page loads). */
export const PRICING_GROUPS: Translations = {
  en: {
    'pricing.groups.title': 'Customer groups',
  },
  de: {
    'pricing.groups.title': 'Kundengruppen',
  },
};
