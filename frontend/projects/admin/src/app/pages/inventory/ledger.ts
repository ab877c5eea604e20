import { ChangeDetectionStrategy, Component, effect, inject, input, signal, untracked } from '@angular/core';
import { RouterLink } from '@angular/router';
import {
  I18n,
  ProblemAlert,
  getVariantStock,
  listVariantLedger,
  outcome,
  type Adjustment,
  type Location,
  type Problem,
  type VariantStock,
} from 'shared';
import { when } from '../../texts/when';
import { InventoryLookups } from './inventory-support';

type Entry = Adjustment;

/** A variant's ledger: every change to its on-hand stock, newest first, with who and why. */
@Component({
  selector: 'admin-inventory-ledger',
  imports: [RouterLink, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<p>
      <a routerLink="/inventory/stock" [queryParams]="{ q: q() || null }">{{ i18n.t('inventory.ledger.back') }}</a>
    </p>
    <h1>{{ i18n.t('inventory.ledger.title', { sku: stock()?.sku ?? '…' }) }}</h1>
    @if (stock(); as s) {
      <p>
        {{ i18n.t('inventory.stock.totals', { on_hand: s.on_hand, reserved: s.reserved, available: s.available }) }}
      </p>
    }
    <agora-problem-alert [problem]="problem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('inventory.ledger.title', { sku: stock()?.sku ?? '' })
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('inventory.ledger.when') }}</th>
            <th scope="col">{{ i18n.t('inventory.ledger.location') }}</th>
            <th scope="col">{{ i18n.t('inventory.stock.reason') }}</th>
            <th scope="col">{{ i18n.t('inventory.ledger.change') }}</th>
            <th scope="col">{{ i18n.t('inventory.ledger.after') }}</th>
            <th scope="col">{{ i18n.t('inventory.reference') }}</th>
            <th scope="col">{{ i18n.t('inventory.ledger.by') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (e of entries(); track e.id) {
            <tr>
              <td>{{ when(e.created_at) }}</td>
              <td>{{ locationName(e.location_id) }}</td>
              <td>
                {{ i18n.t('inventory.reason.' + e.reason) }}
                @if (e.note) {
                  <br /><span class="hint">{{ e.note }}</span>
                }
              </td>
              <td>{{ e.on_hand_delta > 0 ? '+' + e.on_hand_delta : e.on_hand_delta }}</td>
              <td>{{ e.on_hand_after }}</td>
              <td>{{ e.reference ?? '' }}</td>
              <td class="break">{{ e.created_by }}</td>
            </tr>
          } @empty {
            <tr>
              <td colspan="7">{{ i18n.t(loading() ? 'common.loading' : 'inventory.ledger.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (next()) {
      <button type="button" class="button secondary" (click)="load(true)">{{ i18n.t('inventory.more') }}</button>
    }`,
})
export class LedgerPage {
  protected readonly i18n = inject(I18n);
  private readonly lookups = inject(InventoryLookups);
  readonly variantId = input.required<string>();
  /** The stock page's search, to go back to it. */
  readonly q = input<string>();
  protected readonly stock = signal<VariantStock | null>(null);
  protected readonly entries = signal<Entry[]>([]);
  protected readonly locations = signal<Location[]>([]);
  protected readonly next = signal<string | null>(null);
  protected readonly loading = signal(true);
  protected readonly problem = signal<Problem | null>(null);

  constructor() {
    void this.lookups.locations().then((all) => this.locations.set(all));
    effect(() => {
      const id = this.variantId();
      untracked(() => void this.open(id));
    });
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected locationName(id: string): string {
    return this.locations().find((l) => l.id === id)?.name ?? id;
  }

  private async open(id: string): Promise<void> {
    const stock = await outcome(getVariantStock({ path: { variant_id: id } }));
    if (!stock.ok) {
      this.problem.set(stock.problem);
      this.loading.set(false);
      return;
    }
    this.stock.set(stock.data);
    await this.load(false);
  }

  protected async load(more: boolean): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    const result = await outcome(
      listVariantLedger({ path: { variant_id: this.variantId() }, query: { limit: 50, cursor } }),
    );
    this.loading.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.entries.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
  }
}
