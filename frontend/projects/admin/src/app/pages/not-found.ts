import { I18n } from 'shared';
import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'admin-not-found',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.not-found.title') }}</h1>
    <p>
      <a routerLink="/">{{ i18n.t('admin.not-found.back') }}</a>
    </p>`,
})
export class NotFound {
  protected readonly i18n = inject(I18n);
}
