import { ADMIN } from './admin';
import { CATALOG } from './catalog';
import { OPERATIONS } from './operations';

describe('catalog texts', () => {
  it('has every English text in German too', () => {
    expect(Object.keys(CATALOG.de).sort()).toEqual(Object.keys(CATALOG.en).sort());
    for (const key of Object.keys(CATALOG.en)) expect(CATALOG.de[key], key).toBeTruthy();
  });

  it('shares no key with the rest of the admin', () => {
    const others = { ...ADMIN.en, ...OPERATIONS.en };
    expect(Object.keys(CATALOG.en).filter((key) => key in others)).toEqual([]);
  });
});
