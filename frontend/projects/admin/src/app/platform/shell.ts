import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { I18n, LanguageSwitch } from 'shared';
import { OperatorSession } from './operator-session';

/** The console's sections, in the order operators reach for them. */
export const CONSOLE_SECTIONS = [
  { path: '/platform', key: 'console.nav.shops', exact: true },
  { path: '/platform/jobs', key: 'console.nav.jobs', exact: false },
  { path: '/platform/events', key: 'console.nav.events', exact: false },
  { path: '/platform/operators', key: 'console.nav.operators', exact: false },
] as const;

/** The operators' console frame: its sections beside the work area, like the shop admin's. */
@Component({
  selector: 'admin-platform-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, LanguageSwitch],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<a class="skip-link" href="#main">{{ i18n.t('common.skip') }}</a>
    <div class="shell">
      <nav class="shell-nav" [attr.aria-label]="i18n.t('console.nav')">
        <p>
          <strong>{{ i18n.t('platform.title') }}</strong><br />
          <span class="hint">{{
            i18n.t('console.signed-in-as', { name: session.operator()?.name || session.operator()?.email || '' })
          }}</span>
        </p>
        <ul>
          @for (section of sections; track section.path) {
            <li>
              <a
                [routerLink]="section.path"
                routerLinkActive
                ariaCurrentWhenActive="page"
                [routerLinkActiveOptions]="{ exact: section.exact }"
                >{{ i18n.t(section.key) }}</a
              >
            </li>
          }
        </ul>
        <agora-language-switch />
        <button type="button" class="button secondary" (click)="signOut()">{{ i18n.t('common.sign-out') }}</button>
      </nav>
      <main class="shell-main" id="main" tabindex="-1">
        <router-outlet />
      </main>
    </div>`,
})
export class PlatformShell {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(OperatorSession);
  private readonly router = inject(Router);
  protected readonly sections = CONSOLE_SECTIONS;

  protected async signOut(): Promise<void> {
    await this.session.signOut();
    await this.router.navigateByUrl('/platform/sign-in');
  }
}
