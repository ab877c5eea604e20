import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { StaffSession } from '../staff-session';

/** The admin's frame: navigation limited to what the member may do, and the work area. */
@Component({
  selector: 'admin-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<a class="skip-link" href="#main">Skip to main content</a>
    <div class="shell">
      <nav class="shell-nav" aria-label="Admin">
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
                >{{ item.label }}</a
              >
            </li>
          }
          @if (session.mfaEnrolmentRequired()) {
            <li><a routerLink="/account" routerLinkActive ariaCurrentWhenActive="page">Your account</a></li>
          }
        </ul>
        <button type="button" class="button secondary" (click)="signOut()">Sign out</button>
      </nav>
      <main class="shell-main" id="main" tabindex="-1">
        @if (session.mfaEnrolmentRequired()) {
          <p class="notice" role="status">
            This shop requires two-step verification. Set up your authenticator app under “Your account” to continue.
          </p>
        }
        <router-outlet />
      </main>
    </div>`,
})
export class Shell {
  protected readonly session = inject(StaffSession);
  private readonly router = inject(Router);

  protected async signOut(): Promise<void> {
    await this.session.signOut();
    await this.router.navigateByUrl('/sign-in');
  }
}
