import { TestBed } from '@angular/core/testing';
import { I18n } from './i18n';

describe('I18n', () => {
  afterEach(() => localStorage.clear());

  it('translates into the chosen locale, fills placeholders and remembers the choice', () => {
    const i18n = TestBed.inject(I18n);
    i18n.register({ en: { hello: 'Hello {name}' }, de: { hello: 'Hallo {name}' } });
    i18n.use('en');
    expect(i18n.t('hello', { name: 'Ada' })).toBe('Hello Ada');
    i18n.use('de');
    expect(i18n.t('hello', { name: 'Ada' })).toBe('Hallo Ada');
    expect(document.documentElement.lang).toBe('de');
    expect(localStorage.getItem('agora.locale')).toBe('de');
  });

  it('falls back to English, then to the key, for a missing text', () => {
    const i18n = TestBed.inject(I18n);
    i18n.register({ en: { 'only.en': 'Only English' }, de: {} });
    i18n.use('de');
    expect(i18n.t('only.en')).toBe('Only English');
    expect(i18n.t('no.such.key')).toBe('no.such.key');
  });
});
