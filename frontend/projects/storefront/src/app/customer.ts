import { Injectable, computed, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import {
  type Account,
  type ShopSettings,
  csrfTokens,
  customerCsrfToken,
  customerLogout,
  getMyAccount,
  getShop,
  outcome,
} from 'shared';

/**
 * The shop and the signed-in customer, as every page sees them. The session cookie is HttpOnly,
 * so "am I signed in?" is answered by asking the API for the account.
 */
@Injectable({ providedIn: 'root' })
export class Customer {
  readonly account = signal<Account | null>(null);
  readonly shop = signal<ShopSettings | null>(null);
  readonly signedIn = computed(() => this.account() !== null);
  private loaded: Promise<void> | null = null;

  /** Loads the account once per page load (again after `refresh`). */
  ensureLoaded(): Promise<void> {
    this.loaded ??= this.refresh();
    return this.loaded;
  }

  async refresh(): Promise<void> {
    const me = await outcome(getMyAccount());
    this.account.set(me.ok ? me.data : null);
    if (me.ok) {
      // The session's own token, not one remembered from an earlier session: a shopper back
      // from the shop's sign-in provider is signed in by the redirect alone, with no login
      // answer to take it from.
      const token = await outcome(customerCsrfToken());
      if (token.ok) csrfTokens.set('store', token.data.csrf_token);
    }
  }

  async loadShop(): Promise<void> {
    const shop = await outcome(getShop());
    if (shop.ok) {
      this.shop.set(shop.data);
    }
  }

  signedInWith(account: Account, csrf: string | null | undefined): void {
    csrfTokens.set('store', csrf);
    this.account.set(account);
    this.loaded = Promise.resolve();
  }

  async signOut(): Promise<void> {
    await outcome(customerLogout());
    this.forget();
  }

  /** After erasure or logout: nothing of the account stays in the page. */
  forget(): void {
    csrfTokens.set('store', null);
    this.account.set(null);
  }
}

/** Account pages need a signed-in customer; others are sent to the login page and back. */
export const signedIn: CanActivateFn = async (_route, state) => {
  // Injected before the first await: injection works only synchronously in a guard.
  const customer = inject(Customer);
  const router = inject(Router);
  await customer.ensureLoaded();
  return customer.signedIn() ? true : router.createUrlTree(['/login'], { queryParams: { next: state.url } });
};
