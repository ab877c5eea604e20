import type { Translations } from 'shared';

/** The texts of the pricing section's taxes page (registered when the page loads). */
export const PRICING_TAXES: Translations = {
  en: {
    'pricing.taxes.title': 'Taxes',
  },
  de: {
    'pricing.taxes.title': 'Steuern',
  },
};
