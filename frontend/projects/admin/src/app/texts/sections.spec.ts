import type { Translations } from 'shared';
import { ADMIN } from './admin';
import { CATALOG } from './catalog';
import { CATALOG_PRODUCT } from './catalog-product';
import { INVENTORY } from './inventory';
import { OPERATIONS } from './operations';
import { PLATFORM } from './platform';
import { PRICING } from './pricing';
import { PRICING_CART } from './pricing-cart';
import { PRICING_GROUPS } from './pricing-groups';
import { PRICING_PRICE_LISTS } from './pricing-price-lists';
import { PRICING_PROMOTIONS } from './pricing-promotions';
import { PRICING_TAXES } from './pricing-taxes';

/** The sections whose texts load with their own chunk. */
const SECTIONS: Record<string, Translations> = {
  'catalog product': CATALOG_PRODUCT,
  inventory: INVENTORY,
  pricing: PRICING,
  'pricing taxes': PRICING_TAXES,
  'pricing groups': PRICING_GROUPS,
  'pricing price lists': PRICING_PRICE_LISTS,
  'pricing promotions': PRICING_PROMOTIONS,
  'pricing cart': PRICING_CART,
};

for (const [name, texts] of Object.entries(SECTIONS)) {
  describe(`${name} texts`, () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

    it('has every English text in German too, with the same placeholders', () => {
      expect(Object.keys(texts.de).sort()).toEqual(Object.keys(texts.en).sort());
      for (const [key, english] of Object.entries(texts.en)) {
        expect(texts.de[key], key).toBeTruthy();
        expect(placeholders(texts.de[key]), key).toEqual(placeholders(english));
      }
    });

    it('shares no key with the rest of the admin', () => {
      const others = { ...ADMIN.en, ...OPERATIONS.en, ...CATALOG.en, ...PLATFORM.en };
      const sections = Object.entries(SECTIONS).filter(([other]) => other !== name);
      const theirs = Object.assign({}, others, ...sections.map(([, t]) => t.en));
      expect(Object.keys(texts.en).filter((key) => key in theirs)).toEqual([]);
    });
  });
}
