import { STOREFRONT } from './translations';

describe('storefront texts', () => {
  it('has every English text in German too, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(STOREFRONT.en)) {
      const german = STOREFRONT.de[key];
      expect(german, key).toBeTruthy();
      expect(placeholders(german), key).toEqual(placeholders(english));
    }
    expect(Object.keys(STOREFRONT.de).sort()).toEqual(Object.keys(STOREFRONT.en).sort());
  });
});
