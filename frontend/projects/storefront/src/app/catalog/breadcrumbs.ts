import { ChangeDetectionStrategy, Component, inject, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n } from 'shared';
import type { Crumb } from './catalog';

/** Where a page sits: home, then each category above it, then the page itself (not a link). */
@Component({
  selector: 'shop-breadcrumbs',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<nav class="breadcrumbs" [attr.aria-label]="i18n.t('catalog.breadcrumbs')">
    <ol>
      <li>
        <a routerLink="/">{{ i18n.t('nav.home') }}</a>
      </li>
      @for (crumb of trail(); track crumb.id) {
        <li>
          <a [routerLink]="['/c', crumb.slug]">{{ crumb.name }}</a>
        </li>
      }
      <li aria-current="page">{{ current() }}</li>
    </ol>
  </nav>`,
})
export class Breadcrumbs {
  protected readonly i18n = inject(I18n);
  readonly trail = input<Crumb[]>([]);
  readonly current = input.required<string>();
}
