import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n } from 'shared';

@Component({
  selector: 'shop-not-found',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('notfound.title') }}</h1>
    <p>
      <a routerLink="/">{{ i18n.t('notfound.home') }}</a>
    </p>
  </div>`,
})
export class NotFound {
  protected readonly i18n = inject(I18n);
}
