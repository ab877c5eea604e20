import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n, LOCALES, isLocale } from '../i18n';

const NAMES: Record<string, string> = { en: 'English', de: 'Deutsch' };

/** English or German, for every text on screen and every API answer. */
@Component({
  selector: 'agora-language-switch',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<label class="language-switch">
    <span class="visually-hidden">{{ i18n.t('common.language') }}</span>
    <select (change)="choose($event)" [attr.aria-label]="i18n.t('common.language')">
      @for (code of locales; track code) {
        <option [value]="code" [selected]="code === i18n.locale()" [attr.lang]="code">{{ names[code] }}</option>
      }
    </select>
  </label>`,
})
export class LanguageSwitch {
  protected readonly i18n = inject(I18n);
  protected readonly locales = LOCALES;
  protected readonly names = NAMES;

  protected choose(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    if (isLocale(value)) {
      this.i18n.use(value);
    }
  }
}
