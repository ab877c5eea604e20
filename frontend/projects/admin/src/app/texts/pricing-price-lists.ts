import type { Translations } from 'shared';

/** The texts of the pricing section's price lists page (registered when the page loads). */
export const PRICING_PRICE_LISTS: Translations = {
  en: {
    'pricing.price-lists.title': 'Price lists',
  },
  de: {
    'pricing.price-lists.title': 'Preislisten',
  },
};
