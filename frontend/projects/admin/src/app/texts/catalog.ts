import type { Translations } from 'shared';

/** The catalog screens' texts. */
export const CATALOG: Translations = {
  en: {
    'nav.products': 'Products',
    'nav.categories': 'Categories',
    'nav.collections': 'Collections',
    'nav.product-types': 'Product types',
    'nav.catalog-settings': 'Currencies and search',
  },
  de: {
    'nav.products': 'Produkte',
    'nav.categories': 'Kategorien',
    'nav.collections': 'Kollektionen',
    'nav.product-types': 'Produkttypen',
    'nav.catalog-settings': 'Währungen und Suche',
  },
};
