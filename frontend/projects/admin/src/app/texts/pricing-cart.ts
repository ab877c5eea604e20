import type { Translations } from 'shared';

/** The texts of the pricing section's cart rules page (registered when the page loads). */
export const PRICING_CART: Translations = {
  en: {
    'pricing.cart.title': 'Cart rules',
    'pricing.cart.intro':
      'How long a shopper’s cart is kept while nothing changes in it, and how much one cart may hold.',
    'pricing.cart.abandon': 'Abandon idle carts after (minutes)',
    'pricing.cart.abandon-hint': 'From 5 minutes to a year (525,600). 4,320 minutes are three days.',
    'pricing.cart.max-quantity': 'At most this many of one item',
    'pricing.cart.max-quantity-hint': 'From 1 to 1,000,000.',
    'pricing.cart.max-lines': 'At most this many different items',
    'pricing.cart.max-lines-hint': 'From 1 to 1,000.',
    'pricing.cart.whole-number': 'Give a whole number.',
    'pricing.cart.saved': 'Cart rules saved.',
  },
  de: {
    'pricing.cart.title': 'Warenkorb-Regeln',
    'pricing.cart.intro':
      'Wie lange ein Warenkorb aufbewahrt wird, in dem sich nichts ändert, und wie viel ein Warenkorb enthalten darf.',
    'pricing.cart.abandon': 'Unberührte Warenkörbe aufgeben nach (Minuten)',
    'pricing.cart.abandon-hint': 'Von 5 Minuten bis zu einem Jahr (525.600). 4.320 Minuten sind drei Tage.',
    'pricing.cart.max-quantity': 'Höchstens so viele von einem Artikel',
    'pricing.cart.max-quantity-hint': 'Von 1 bis 1.000.000.',
    'pricing.cart.max-lines': 'Höchstens so viele verschiedene Artikel',
    'pricing.cart.max-lines-hint': 'Von 1 bis 1.000.',
    'pricing.cart.whole-number': 'Bitte eine ganze Zahl angeben.',
    'pricing.cart.saved': 'Warenkorb-Regeln gespeichert.',
  },
};
