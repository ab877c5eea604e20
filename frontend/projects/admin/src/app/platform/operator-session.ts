import { Injectable, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { type Operator, csrfTokens, operatorLogout, operatorMe, outcome } from 'shared';

/** The signed-in platform operator (the console lives on the platform's own host). */
@Injectable({ providedIn: 'root' })
export class OperatorSession {
  readonly operator = signal<Operator | null>(null);

  async refresh(): Promise<void> {
    const me = await outcome(operatorMe());
    this.operator.set(me.ok ? me.data : null);
  }

  async signedInWith(csrf: string | null | undefined): Promise<void> {
    csrfTokens.set('platform', csrf);
    await this.refresh();
  }

  async signOut(): Promise<void> {
    await outcome(operatorLogout());
    csrfTokens.set('platform', null);
    this.operator.set(null);
  }
}

export const operatorSignedIn: CanActivateFn = async () => {
  const session = inject(OperatorSession);
  const router = inject(Router);
  await session.refresh();
  return session.operator() ? true : router.createUrlTree(['/platform/sign-in']);
};
