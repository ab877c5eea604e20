import { Injectable, computed, effect, inject, signal } from '@angular/core';
import {
  I18n,
  getStoreCurrencies,
  listStoreCategories,
  outcome,
  type StoreCategory,
  type StoreProduct,
  type StoreProductPage,
} from 'shared';

export type ProductSummary = StoreProductPage['items'][number];
export type Facets = StoreProductPage['facets'];
export type Variant = StoreProduct['variants'][number];
export type Crumb = StoreCategory['breadcrumbs'][number];
export interface Price {
  amount: number;
  currency: string;
}

const CURRENCY_KEY = 'agora.currency';

/**
 * The catalogue as every storefront page sees it: the category tree in the shopper's language,
 * the currencies the shop sells in and the one the shopper chose (remembered like the language).
 */
@Injectable({ providedIn: 'root' })
export class Catalog {
  private readonly i18n = inject(I18n);
  readonly categories = signal<StoreCategory[]>([]);
  readonly currencies = signal<string[]>([]);
  /** The shopper's choice; `null` means the shop's default. */
  readonly currency = signal<string | null>(remembered());
  readonly topCategories = computed(() => this.categories().filter((c) => !c.parent_id));

  constructor() {
    // The tree's names follow the language.
    effect(() => {
      this.i18n.locale();
      void this.loadCategories();
    });
    void this.loadCurrencies();
  }

  /** The currency to ask the API for: the shopper's, when the shop still sells it. */
  readonly requestCurrency = computed(() => {
    const chosen = this.currency();
    return chosen && this.currencies().includes(chosen) ? chosen : undefined;
  });

  chooseCurrency(code: string): void {
    this.currency.set(code);
    try {
      globalThis.localStorage?.setItem(CURRENCY_KEY, code);
    } catch {
      // Not remembered; the choice still applies to this page.
    }
  }

  children(parent: string): StoreCategory[] {
    return this.categories().filter((c) => c.parent_id === parent);
  }

  /** `19,99 €` / `€19.99`: minor units shown in the shopper's language. */
  format(price: Price | null | undefined): string {
    if (!price) {
      return '';
    }
    return new Intl.NumberFormat(this.i18n.locale(), { style: 'currency', currency: price.currency }).format(
      price.amount / 10 ** fractionDigits(price.currency),
    );
  }

  private async loadCategories(): Promise<void> {
    const result = await outcome(listStoreCategories());
    if (result.ok) {
      this.categories.set(result.data);
    }
  }

  private async loadCurrencies(): Promise<void> {
    const result = await outcome(getStoreCurrencies());
    if (result.ok) {
      this.currencies.set(result.data.currencies);
      if (!this.currency()) {
        this.currency.set(result.data.default_currency);
      }
    }
  }
}

/** How many minor units a currency has (2 for EUR, 0 for JPY). */
export function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

function remembered(): string | null {
  try {
    return globalThis.localStorage?.getItem(CURRENCY_KEY) ?? null;
  } catch {
    return null;
  }
}
