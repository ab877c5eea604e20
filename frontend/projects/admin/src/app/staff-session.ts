import { Injectable, computed, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import {
  type Account,
  type Problem,
  csrfTokens,
  getMyStaffAccount,
  getMyStaffPermissions,
  outcome,
  problemSlug,
  staffCsrfToken,
  staffLogout,
} from 'shared';
import { permitted } from './navigation';

/** The signed-in staff member and what they may do, as the shell and the guards see it. */
@Injectable({ providedIn: 'root' })
export class StaffSession {
  readonly account = signal<Account | null>(null);
  readonly permissions = signal<ReadonlySet<string>>(new Set());
  /** The shop requires an authenticator this member has not enrolled yet. */
  readonly mfaEnrolmentRequired = signal(false);
  readonly signedIn = computed(() => this.account() !== null);
  readonly destinations = computed(() => (this.mfaEnrolmentRequired() ? [] : permitted(this.permissions())));
  private loaded: Promise<void> | null = null;

  ensureLoaded(): Promise<void> {
    this.loaded ??= this.refresh();
    return this.loaded;
  }

  /** Who is signed in; with `withToken`, also the session's CSRF token (a login answer brings its own). */
  async refresh(withToken = true): Promise<void> {
    const me = await outcome(getMyStaffAccount());
    this.account.set(me.ok ? me.data : null);
    if (!me.ok) {
      this.permissions.set(new Set());
      return;
    }
    const [granted, token] = await Promise.all([
      outcome(getMyStaffPermissions()),
      // The session's own token, not one remembered from an earlier session: a member back from
      // the shop's sign-in provider is signed in by the redirect alone, with no login answer to
      // take it from, and their first save would otherwise be refused (403 csrf-failed).
      withToken ? outcome(staffCsrfToken()) : null,
    ]);
    if (token?.ok) csrfTokens.set('admin', token.data.csrf_token);
    this.mfaEnrolmentRequired.set(!granted.ok && isMfaEnrolmentRequired(granted.problem));
    this.permissions.set(new Set(granted.ok ? granted.data.permissions : []));
  }

  can(permission: string): boolean {
    return this.permissions().has(permission);
  }

  async signedInWith(csrf: string | null | undefined): Promise<void> {
    csrfTokens.set('admin', csrf);
    this.loaded = this.refresh(false);
    await this.loaded;
  }

  async signOut(): Promise<void> {
    await outcome(staffLogout());
    csrfTokens.set('admin', null);
    this.account.set(null);
    this.permissions.set(new Set());
    this.loaded = null;
  }
}

export function isMfaEnrolmentRequired(problem: Problem): boolean {
  return problemSlug(problem) === 'mfa-enrolment-required';
}

/** The admin's pages need a signed-in staff member; others go to the sign-in page. */
export const staffSignedIn: CanActivateFn = async (_route, state) => {
  // Injected before the first await: injection works only synchronously in a guard.
  const session = inject(StaffSession);
  const router = inject(Router);
  await session.ensureLoaded();
  return session.signedIn() ? true : router.createUrlTree(['/sign-in'], { queryParams: { next: state.url } });
};

/** A section whose permission the member lacks is not found for them, as the nav already says. */
export function needs(permission: string): CanActivateFn {
  return async () => {
    const session = inject(StaffSession);
    const router = inject(Router);
    await session.ensureLoaded();
    return session.can(permission) ? true : router.createUrlTree(['/']);
  };
}
