import { ADMIN } from './admin';
import { OPERATIONS } from './operations';
import { PLATFORM } from './platform';

describe('admin texts', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  for (const [name, texts] of Object.entries({ ADMIN, OPERATIONS, PLATFORM })) {
    it(`${name} has every English text in German too, with the same placeholders`, () => {
      for (const [key, english] of Object.entries(texts.en)) {
        const german = texts.de[key];
        expect(german, key).toBeTruthy();
        expect(placeholders(german), key).toEqual(placeholders(english));
      }
      expect(Object.keys(texts.de).sort()).toEqual(Object.keys(texts.en).sort());
    });
  }

  it('gives every key one meaning across the admin', () => {
    const shared = Object.keys(ADMIN.en).filter((key) => key in OPERATIONS.en);
    expect(shared).toEqual([]);
    const others = { ...ADMIN.en, ...OPERATIONS.en };
    expect(Object.keys(PLATFORM.en).filter((key) => key in others)).toEqual([]);
  });
});
