import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { I18n } from 'shared';

@Component({
  selector: 'shop-account',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('account.title') }}</h1>
    <nav class="account-nav" [attr.aria-label]="i18n.t('account.nav')">
      <ul>
        <li>
          <a
            routerLink="/account"
            routerLinkActive
            ariaCurrentWhenActive="page"
            [routerLinkActiveOptions]="{ exact: true }"
          >
            {{ i18n.t('account.profile') }}
          </a>
        </li>
        <li>
          <a routerLink="/account/addresses" routerLinkActive ariaCurrentWhenActive="page">{{
            i18n.t('account.addresses')
          }}</a>
        </li>
        <li>
          <a routerLink="/account/sessions" routerLinkActive ariaCurrentWhenActive="page">{{
            i18n.t('account.sessions')
          }}</a>
        </li>
        <li>
          <a routerLink="/account/privacy" routerLinkActive ariaCurrentWhenActive="page">{{
            i18n.t('account.privacy')
          }}</a>
        </li>
      </ul>
    </nav>
    <router-outlet />
  </div>`,
})
export class AccountLayout {
  protected readonly i18n = inject(I18n);
}
