import type { Translations } from 'shared';

/** The texts of the pricing section's promotions page (registered when the page loads). */
export const PRICING_PROMOTIONS: Translations = {
  en: {
    'pricing.promotions.title': 'Promotions',
  },
  de: {
    'pricing.promotions.title': 'Aktionen',
  },
};
