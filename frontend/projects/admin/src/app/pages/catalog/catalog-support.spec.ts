import { I18n } from 'shared';
import { CATALOG } from '../../texts/catalog';
import { formatMoney, languageName, pick, toDecimal, toMinor, words } from './catalog-support';

describe('catalog support', () => {
  it('turns typed amounts into minor units by the currency’s digits', () => {
    expect(toMinor('19.99', 'EUR')).toBe(1999);
    expect(toMinor('19,9', 'EUR')).toBe(1990);
    expect(toMinor('20', 'EUR')).toBe(2000);
    expect(toMinor('1500', 'JPY')).toBe(1500);
    expect(toMinor('1.234', 'KWD')).toBe(1234);
    expect(toMinor('', 'EUR')).toBeNull();
    expect(toMinor('1.999', 'EUR')).toBeNaN();
    expect(toMinor('12 euros', 'EUR')).toBeNaN();
  });

  it('shows minor units as the merchant types them, and back', () => {
    expect(toDecimal(1999, 'EUR')).toBe('19.99');
    expect(toDecimal(5, 'USD')).toBe('0.05');
    expect(toDecimal(1500, 'JPY')).toBe('1500');
    expect(toMinor(toDecimal(123456, 'USD'), 'USD')).toBe(123456);
    expect(formatMoney(1999, 'EUR', 'en')).toBe('€19.99');
  });

  it('picks a text in the wanted language, else the default, else any', () => {
    expect(pick({ en: 'Shirt', de: 'Hemd' }, 'de', 'en')).toBe('Hemd');
    expect(pick({ en: 'Shirt' }, 'de', 'en')).toBe('Shirt');
    expect(pick({ fr: 'Chemise' }, 'de', 'en')).toBe('Chemise');
    expect(pick(undefined, 'de', 'en')).toBe('');
  });

  it('reads comma-separated words', () => {
    expect(words(' S, M,, L ')).toEqual(['S', 'M', 'L']);
    expect(words('')).toEqual([]);
  });

  it('names languages in the member’s language, others by their code', () => {
    const i18n = new I18n();
    i18n.register(CATALOG);
    i18n.use('de');
    expect(languageName(i18n, 'de')).toBe('Deutsch');
    expect(languageName(i18n, 'en')).toBe('Englisch');
    expect(languageName(i18n, 'nl')).toBe('nl');
    i18n.use('en');
    expect(languageName(i18n, 'de')).toBe('German');
  });
});
