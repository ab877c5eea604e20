import { I18n } from 'shared';
import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { StaffSession } from '../staff-session';

@Component({
  selector: 'admin-overview',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.overview.title') }}</h1>
    <p>{{ i18n.t('admin.overview.welcome', { name: session.account()?.name || session.account()?.email || '' }) }}</p>
    <ul>
      @for (item of session.destinations(); track item.path) {
        @if (item.path !== '/') {
          <li>
            <a [routerLink]="item.path">{{ item.key ? i18n.t(item.key) : item.label }}</a>
          </li>
        }
      }
    </ul>`,
})
export class Overview {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(StaffSession);
}
