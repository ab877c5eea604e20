import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { I18n, LanguageSwitch } from 'shared';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { StaffSession } from '../staff-session';

/** The admin's frame: navigation limited to what the member may do, and the work area. */
@Component({
  selector: 'admin-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<a class="skip-link" href="#main">{{ i18n.t('common.skip') }}</a>
    <div class="shell">
      <nav class="shell-nav" [attr.aria-label]="i18n.t('nav.admin')">
        <p>
          <strong>{{ session.account()?.name || session.account()?.email }}</strong>
        </p>
        <ul>
          @for (item of session.destinations(); track item.path) {
            <li>
              <a
                [routerLink]="item.path"
                routerLinkActive
                ariaCurrentWhenActive="page"
                [routerLinkActiveOptions]="{ exact: item.path === '/' }"
                >{{ item.key ? i18n.t(item.key) : item.label }}</a
              >
            </li>
          }
          @if (session.mfaEnrolmentRequired()) {
            <li>
              <a routerLink="/account" routerLinkActive ariaCurrentWhenActive="page">{{ i18n.t('nav.account') }}</a>
            </li>
          }
        </ul>
        <agora-language-switch />
        <button type="button" class="button secondary" (click)="signOut()">{{ i18n.t('common.sign-out') }}</button>
      </nav>
      <main class="shell-main" id="main" tabindex="-1">
        @if (session.mfaEnrolmentRequired()) {
          <p class="notice" role="status">{{ i18n.t('shell.mfa-required') }}</p>
        }
        <router-outlet />
      </main>
    </div>`,
})
export class Shell {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(StaffSession);
  private readonly router = inject(Router);

  protected async signOut(): Promise<void> {
    await this.session.signOut();
    await this.router.navigateByUrl('/sign-in');
  }
}
