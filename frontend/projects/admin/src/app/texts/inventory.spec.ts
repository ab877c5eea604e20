import { ADMIN } from './admin';
import { CATALOG } from './catalog';
import { INVENTORY } from './inventory';
import { OPERATIONS } from './operations';
import { PLATFORM } from './platform';

describe('inventory texts', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  it('has every English text in German too, with the same placeholders', () => {
    expect(Object.keys(INVENTORY.de).sort()).toEqual(Object.keys(INVENTORY.en).sort());
    for (const [key, english] of Object.entries(INVENTORY.en)) {
      expect(INVENTORY.de[key], key).toBeTruthy();
      expect(placeholders(INVENTORY.de[key]), key).toEqual(placeholders(english));
    }
  });

  it('shares no key with the rest of the admin', () => {
    const others = { ...ADMIN.en, ...OPERATIONS.en, ...CATALOG.en, ...PLATFORM.en };
    expect(Object.keys(INVENTORY.en).filter((key) => key in others)).toEqual([]);
  });
});
