import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { I18n } from 'shared';
import { ADMIN } from './texts/admin';
import { OPERATIONS } from './texts/operations';
import { CATALOG } from './texts/catalog';
import { PLATFORM } from './texts/platform';

@Component({
  selector: 'admin-root',
  imports: [RouterOutlet],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<router-outlet />`,
})
export class App {
  constructor() {
    const i18n = inject(I18n);
    i18n.register(ADMIN);
    i18n.register(OPERATIONS);
    i18n.register(CATALOG);
    i18n.register(PLATFORM);
  }
}
