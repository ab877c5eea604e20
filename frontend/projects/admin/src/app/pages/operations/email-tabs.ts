import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive } from '@angular/router';
import { I18n } from 'shared';

/** The email section's three parts, one link each. */
@Component({
  selector: 'admin-email-tabs',
  imports: [RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<nav class="tabs" [attr.aria-label]="i18n.t('emails.sections')">
    <a routerLink="/emails" routerLinkActive ariaCurrentWhenActive="page" [routerLinkActiveOptions]="{ exact: true }">{{
      i18n.t('emails.templates')
    }}</a>
    <a routerLink="/emails/log" routerLinkActive ariaCurrentWhenActive="page">{{ i18n.t('emails.log') }}</a>
    <a routerLink="/emails/preferences" routerLinkActive ariaCurrentWhenActive="page">{{
      i18n.t('emails.preferences')
    }}</a>
  </nav>`,
})
export class EmailTabs {
  protected readonly i18n = inject(I18n);
}
