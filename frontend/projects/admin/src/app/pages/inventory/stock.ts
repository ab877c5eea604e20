import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  countVariantStock,
  createStockAdjustment,
  fieldMessage,
  getVariantStock,
  outcome,
  type Location,
  type Problem,
  type VariantStock,
} from 'shared';
import { StaffSession } from '../../staff-session';
import {
  InventoryLookups,
  MANUAL_REASONS,
  availableAfter,
  cellKey,
  checkCell,
  idempotencyKey,
  levelAt,
  parseCount,
  pendingCounts,
  sellingNote,
  type CellCheck,
  type ManualReason,
  type VariantRef,
} from './inventory-support';
import { StockSettingsForm } from './stock-settings';

/**
 * Stock as a grid: the variants found by product name or SKU down the side, the shop's
 * locations across, on hand / reserved / available in each cell. On-hand cells are editable;
 * saving sends each changed cell as a stock count, or as an adjustment with the chosen reason
 * (the difference to the shown on hand). The search lives in the URL (`?q=`).
 */
@Component({
  selector: 'admin-inventory-stock',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert, StockSettingsForm],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('inventory.stock.title') }}</h1>
    <form class="filters" role="search" [attr.aria-label]="i18n.t('inventory.stock.find')" (ngSubmit)="search()">
      <div class="field">
        <label for="stock-search">{{ i18n.t('inventory.stock.search') }}</label>
        <input id="stock-search" name="q" type="search" [(ngModel)]="term" aria-describedby="stock-search-hint" />
        <p class="hint" id="stock-search-hint">{{ i18n.t('inventory.stock.search-hint') }}</p>
      </div>
      <div class="field filter-submit">
        <button class="button" type="submit">{{ i18n.t('inventory.stock.find') }}</button>
      </div>
    </form>
    <agora-problem-alert [problem]="problem()" />
    @if (!loadingLocations() && !locations().length) {
      <p class="notice" role="status">
        {{ i18n.t('inventory.stock.no-locations') }}
        <a routerLink="/inventory/locations">{{ i18n.t('inventory.stock.add-location') }}</a>
      </p>
    }
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    @if (variants().length && locations().length) {
      <form (ngSubmit)="save()" novalidate>
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="stock-grid-caption">
          <table class="stock-grid">
            <caption id="stock-grid-caption">
              {{
                i18n.t('inventory.stock.grid', { count: variants().length })
              }}
            </caption>
            <thead>
              <tr>
                <th scope="col">{{ i18n.t('inventory.stock.variant') }}</th>
                @for (l of locations(); track l.id) {
                  <th scope="col">
                    {{ l.name }}
                    @if (!l.active) {
                      <span class="badge off">{{ i18n.t('inventory.locations.inactive') }}</span>
                    }
                  </th>
                }
                <th scope="col">{{ i18n.t('inventory.stock.total') }}</th>
                <th scope="col">{{ i18n.t('inventory.actions') }}</th>
              </tr>
            </thead>
            <tbody>
              @for (v of variants(); track v.id; let r = $index) {
                @let stock = stocks().get(v.id);
                <tr>
                  <th scope="row">
                    <span class="sku">{{ v.sku }}</span>
                    <span class="hint">{{ v.label }}</span>
                    @if (rulesNote(stock); as text) {
                      <span class="badge off">{{ text }}</span>
                    }
                  </th>
                  @for (l of locations(); track l.id; let c = $index) {
                    @let level = levelOf(stock, l);
                    @let key = cell(v.id, l.id);
                    <td class="stock-cell">
                      @if (canManage()) {
                        <input
                          [id]="'cell-' + r + '-' + c"
                          [name]="'cell-' + r + '-' + c"
                          type="text"
                          inputmode="numeric"
                          autocomplete="off"
                          [attr.aria-label]="i18n.t('inventory.stock.on-hand-of', { sku: v.sku, location: l.name })"
                          [value]="edits()[key] ?? level.on_hand"
                          (input)="type(key, $event)"
                          [attr.aria-invalid]="!!cellError(key)"
                          [attr.aria-describedby]="'cell-' + r + '-' + c + '-figures'"
                          [class.changed]="isChanged(key, level.on_hand)"
                        />
                      } @else {
                        <span class="on-hand">{{ level.on_hand }}</span>
                      }
                      <span class="figures hint" [id]="'cell-' + r + '-' + c + '-figures'">
                        {{
                          i18n.t('inventory.stock.figures', {
                            reserved: level.reserved,
                            available: level.available,
                          })
                        }}
                        @if (level.safety_stock) {
                          {{ i18n.t('inventory.stock.safety', { count: level.safety_stock }) }}
                        }
                        @if (preview(key, level); as after) {
                          <strong>{{ after }}</strong>
                        }
                        @if (cellError(key); as message) {
                          <span class="field-error" role="alert">{{ message }}</span>
                        }
                      </span>
                    </td>
                  }
                  <td>
                    @if (stock) {
                      <span data-testid="total">{{
                        i18n.t('inventory.stock.totals', {
                          on_hand: stock.on_hand,
                          reserved: stock.reserved,
                          available: stock.available,
                        })
                      }}</span>
                    }
                  </td>
                  <td>
                    <div class="row">
                      <a
                        class="button secondary"
                        [routerLink]="['/inventory/ledger', v.id]"
                        [queryParams]="{ q: q() || null }"
                        [attr.aria-label]="i18n.t('inventory.stock.ledger-of', { sku: v.sku })"
                        >{{ i18n.t('inventory.stock.ledger') }}</a
                      >
                      @if (canManage() && stock) {
                        <button
                          type="button"
                          class="button secondary"
                          (click)="rulesFor.set(v.id)"
                          [attr.aria-label]="i18n.t('inventory.stock.rules-of', { sku: v.sku })"
                        >
                          {{ i18n.t('inventory.stock.rules') }}
                        </button>
                      }
                    </div>
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
        @if (canManage()) {
          <fieldset class="save-stock">
            <legend>{{ i18n.t('inventory.stock.record-as') }}</legend>
            <div class="grid-3">
              <div class="field">
                <label for="stock-reason">{{ i18n.t('inventory.stock.reason') }}</label>
                <select id="stock-reason" name="reason" [(ngModel)]="reason" aria-describedby="stock-reason-hint">
                  @for (r of reasons; track r) {
                    <option [value]="r">{{ i18n.t('inventory.reason.' + r) }}</option>
                  }
                </select>
                <p class="hint" id="stock-reason-hint">
                  {{ i18n.t(reason() === 'counted' ? 'inventory.stock.count-hint' : 'inventory.stock.adjust-hint') }}
                </p>
              </div>
              @if (reason() !== 'counted') {
                <div class="field">
                  <label for="stock-reference">{{ i18n.t('inventory.reference') }}</label>
                  <input id="stock-reference" name="reference" maxlength="200" [(ngModel)]="reference" />
                  <agora-field-error [problem]="saveProblem()" field="reference" for="stock-reference" />
                </div>
              }
              <div class="field">
                <label for="stock-note">{{ i18n.t('inventory.note') }}</label>
                <input id="stock-note" name="note" maxlength="1000" [(ngModel)]="note" />
                <agora-field-error [problem]="saveProblem()" field="note" for="stock-note" />
              </div>
            </div>
            <agora-problem-alert [problem]="saveProblem()" [placed]="['reference', 'note', 'on_hand', 'quantity']" />
            <div class="row form-actions">
              <button class="button" type="submit" [disabled]="busy() || !dirty()">
                {{ i18n.t('inventory.stock.save', { count: editedCount() }) }}
              </button>
              <button type="button" class="button secondary" [disabled]="!dirty()" (click)="discard()">
                {{ i18n.t('inventory.stock.discard') }}
              </button>
            </div>
          </fieldset>
        }
      </form>
    } @else if (searched() && !searching() && !variants().length) {
      <p>{{ i18n.t('inventory.stock.none') }}</p>
    } @else if (searching()) {
      <p role="status">{{ i18n.t('common.loading') }}</p>
    }
    @if (rulesStock(); as stock) {
      <admin-stock-settings [stock]="stock" (saved)="settingsSaved($event)" (closed)="rulesFor.set(null)" />
    }`,
})
export class StockPage {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  private readonly lookups = inject(InventoryLookups);
  private readonly router = inject(Router);
  protected readonly canManage = computed(() => this.session.can('inventory.manage'));

  /** The search, bound from the URL. */
  readonly q = input<string>();
  protected readonly term = signal('');
  protected readonly locations = signal<Location[]>([]);
  protected readonly loadingLocations = signal(true);
  protected readonly variants = signal<VariantRef[]>([]);
  protected readonly stocks = signal<ReadonlyMap<string, VariantStock>>(new Map());
  /** What the member typed, by cell; a cell not typed in shows its on hand. */
  protected readonly edits = signal<Record<string, string>>({});
  /** The API's answer for a cell that could not be saved. */
  private readonly cellProblems = signal<Record<string, Problem>>({});
  private readonly localErrors = signal<Record<string, CellCheck>>({});
  protected readonly reasons = MANUAL_REASONS;
  protected readonly reason = signal<ManualReason>('counted');
  protected readonly reference = signal('');
  protected readonly note = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly saveProblem = signal<Problem | null>(null);
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  protected readonly searching = signal(false);
  protected readonly searched = signal(false);
  protected readonly rulesFor = signal<string | null>(null);
  protected readonly rulesStock = computed(() => {
    const id = this.rulesFor();
    return id ? (this.stocks().get(id) ?? null) : null;
  });
  protected readonly pending = computed(() =>
    pendingCounts(this.variants(), this.locations(), this.stocks(), this.edits()),
  );
  protected readonly dirty = computed(() => Object.keys(this.edits()).length > 0);
  /** The cells that would change (or cannot be saved as typed): what the save button counts. */
  protected readonly editedCount = computed(
    () => this.pending().changes.length + Object.keys(this.pending().errors).length,
  );
  private asked = 0;

  constructor() {
    void this.loadLocations();
    effect(() => {
      const q = this.q() ?? '';
      untracked(() => {
        this.term.set(q);
        void this.find(q);
      });
    });
  }

  protected cell(variantId: string, locationId: string): string {
    return cellKey(variantId, locationId);
  }

  protected levelOf(stock: VariantStock | undefined, location: Location) {
    return levelAt(stock, location);
  }

  protected rulesNote(stock: VariantStock | undefined): string {
    return sellingNote(stock, (key, params) => this.i18n.t(key, params));
  }

  protected type(key: string, event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    this.edits.update((all) => ({ ...all, [key]: value }));
    this.localErrors.update((all) => ({ ...all, [key]: null }));
    this.cellProblems.update((all) => {
      const copy = { ...all };
      delete copy[key];
      return copy;
    });
  }

  protected isChanged(key: string, onHand: number): boolean {
    const typed = this.edits()[key];
    return typed !== undefined && parseCount(typed) !== onHand;
  }

  /** "→ 7 available" under a cell whose typed count is valid and differs. */
  protected preview(key: string, level: ReturnType<typeof levelAt>): string | null {
    const typed = this.edits()[key];
    if (typed === undefined || checkCell(typed, level)) return null;
    const count = parseCount(typed);
    if (count === null || count === level.on_hand) return null;
    return this.i18n.t('inventory.stock.after', { available: availableAfter(count, level) });
  }

  protected cellError(key: string): string | null {
    const local = this.localErrors()[key];
    if (local === 'invalid') return this.i18n.t('inventory.stock.invalid');
    if (local === 'below-reserved') return this.i18n.t('inventory.stock.below-reserved');
    const problem = this.cellProblems()[key];
    if (!problem) return null;
    return fieldMessage(problem, 'on_hand') ?? fieldMessage(problem, 'quantity') ?? problem.detail ?? problem.title;
  }

  protected search(): void {
    void this.router.navigate([], { queryParams: { q: this.term().trim() || null }, queryParamsHandling: 'merge' });
    // The same search again (to refresh) does not change the URL: look again anyway.
    if ((this.q() ?? '') === this.term().trim()) void this.find(this.term().trim());
  }

  protected discard(): void {
    this.edits.set({});
    this.localErrors.set({});
    this.cellProblems.set({});
    this.saveProblem.set(null);
  }

  protected settingsSaved(stock: VariantStock): void {
    this.stocks.update((all) => new Map(all).set(stock.variant_id, stock));
    this.notice.set(this.i18n.t('inventory.rules.saved', { sku: stock.sku }));
  }

  /** Sends every changed cell, one request each; the cells that fail keep their typing and say why. */
  protected async save(): Promise<void> {
    const { changes, errors } = this.pending();
    this.localErrors.set(errors);
    if (Object.keys(errors).length) {
      this.saveProblem.set(null);
      return;
    }
    this.busy.set(true);
    this.notice.set('');
    const reason = this.reason();
    const note = this.note().trim() || null;
    const reference = this.reference().trim() || null;
    const failed: Record<string, Problem> = {};
    let saved = 0;
    let formProblem: Problem | null = null;
    for (const change of changes) {
      const result =
        reason === 'counted'
          ? await outcome(
              countVariantStock({
                path: { variant_id: change.variantId, location_id: change.locationId },
                body: { on_hand: change.to, note },
              }),
            )
          : await outcome(
              createStockAdjustment({
                headers: idempotencyKey(),
                body: {
                  variant_id: change.variantId,
                  location_id: change.locationId,
                  reason,
                  quantity: change.to - change.from,
                  reference,
                  note,
                },
              }),
            );
      if (!result.ok) {
        failed[change.key] = result.problem;
        if (fieldMessage(result.problem, 'note') || fieldMessage(result.problem, 'reference')) {
          formProblem = result.problem;
        }
        continue;
      }
      saved++;
    }
    // Only the cells that failed keep their typing (cells typed back to their value go too).
    this.edits.update((all) => Object.fromEntries(Object.entries(all).filter(([key]) => key in failed)));
    this.cellProblems.set(failed);
    this.saveProblem.set(formProblem);
    await this.reload(new Set(changes.map((c) => c.variantId)));
    this.busy.set(false);
    const refused = Object.keys(failed).length;
    this.notice.set(
      refused
        ? this.i18n.t('inventory.stock.saved-some', { saved, refused })
        : saved === 1
          ? this.i18n.t('inventory.stock.saved-one')
          : this.i18n.t('inventory.stock.saved', { count: saved }),
    );
  }

  private async loadLocations(): Promise<void> {
    this.locations.set(await this.lookups.locations());
    this.loadingLocations.set(false);
  }

  private async find(term: string): Promise<void> {
    const question = ++this.asked;
    this.searching.set(true);
    const found = await this.lookups.findVariants(term);
    if (question !== this.asked) return;
    this.discard();
    this.variants.set(found.variants.slice(0, 50));
    this.stocks.set(new Map());
    await this.reload(new Set(this.variants().map((v) => v.id)));
    if (question !== this.asked) return;
    this.searching.set(false);
    this.searched.set(true);
  }

  /** The stock of these variants as it is now. */
  private async reload(ids: ReadonlySet<string>): Promise<void> {
    const answers = await Promise.all(
      [...ids].map((id) => outcome(getVariantStock({ path: { variant_id: id } })).then((r) => [id, r] as const)),
    );
    const next = new Map(this.stocks());
    let problem: Problem | null = null;
    for (const [id, result] of answers) {
      if (result.ok) next.set(id, result.data);
      else problem = result.problem;
    }
    this.stocks.set(next);
    this.problem.set(problem);
  }
}
