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

  async refresh(): Promise<void> {
    const me = await outcome(getMyStaffAccount());
    this.account.set(me.ok ? me.data : null);
    if (!me.ok) {
      this.permissions.set(new Set());
      return;
    }
    const granted = await outcome(getMyStaffPermissions());
    this.mfaEnrolmentRequired.set(!granted.ok && isMfaEnrolmentRequired(granted.problem));
    this.permissions.set(new Set(granted.ok ? granted.data.permissions : []));
  }

  can(permission: string): boolean {
    return this.permissions().has(permission);
  }

  async signedInWith(csrf: string | null | undefined): Promise<void> {
    csrfTokens.set('admin', csrf);
    this.loaded = this.refresh();
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
