import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  cancelStockTransfer,
  createStockTransfer,
  fieldMessage,
  listStockTransfers,
  outcome,
  receiveStockTransfer,
  type Location,
  type Problem,
  type Transfer,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { when } from '../../texts/when';
import { InventoryLookups, idempotencyKey, ifMatch } from './inventory-support';
import { VariantPicker, type PickedLine } from './variant-picker';

const TRANSFER_FIELDS = ['from_location_id', 'to_location_id', 'lines', 'reference', 'note'];

/**
 * Stock moving between locations: it leaves the first when the transfer is created (in
 * transit) and arrives when received; cancelling puts it back. Receive and cancel send the
 * transfer's version; a 412 (someone else closed it) reloads the list.
 */
@Component({
  selector: 'admin-inventory-transfers',
  imports: [FormsModule, FieldError, ProblemAlert, VariantPicker],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('inventory.transfers.title') }}</h1>
    <p>{{ i18n.t('inventory.transfers.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" (reload)="load(false)" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('inventory.transfers.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('inventory.transfers.route') }}</th>
            <th scope="col">{{ i18n.t('inventory.lines') }}</th>
            <th scope="col">{{ i18n.t('inventory.transfers.status') }}</th>
            <th scope="col">{{ i18n.t('inventory.transfers.created') }}</th>
            @if (canManage()) {
              <th scope="col">{{ i18n.t('inventory.actions') }}</th>
            }
          </tr>
        </thead>
        <tbody>
          @for (t of transfers(); track t.id) {
            <tr>
              <td>
                {{
                  i18n.t('inventory.transfers.from-to', { from: name(t.from_location_id), to: name(t.to_location_id) })
                }}
                @if (t.reference) {
                  <br /><span class="hint">{{ t.reference }}</span>
                }
              </td>
              <td>
                <ul class="plain-list">
                  @for (line of t.lines; track $index) {
                    <li>
                      {{ i18n.t('inventory.line', { quantity: line.quantity, sku: labels()[line.variant_id] ?? '…' }) }}
                    </li>
                  }
                </ul>
              </td>
              <td>
                <span [class]="'badge transfer-' + t.status">{{ i18n.t('inventory.transfer.' + t.status) }}</span>
              </td>
              <td>{{ when(t.created_at) }}</td>
              @if (canManage()) {
                <td>
                  @if (t.status === 'in_transit') {
                    <div class="row">
                      <button
                        type="button"
                        class="button secondary"
                        [disabled]="busy()"
                        (click)="receive(t)"
                        [attr.aria-label]="i18n.t('inventory.transfers.receive-named', { to: name(t.to_location_id) })"
                      >
                        {{ i18n.t('inventory.transfers.receive') }}
                      </button>
                      <button
                        type="button"
                        class="button secondary"
                        [disabled]="busy()"
                        (click)="cancel(t)"
                        [attr.aria-label]="i18n.t('inventory.transfers.cancel-named', { to: name(t.to_location_id) })"
                      >
                        {{ i18n.t('inventory.transfers.cancel') }}
                      </button>
                    </div>
                  }
                </td>
              }
            </tr>
          } @empty {
            <tr>
              <td [attr.colspan]="canManage() ? 5 : 4">
                {{ i18n.t(loading() ? 'common.loading' : 'inventory.transfers.none') }}
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (next()) {
      <button type="button" class="button secondary" (click)="load(true)">{{ i18n.t('inventory.more') }}</button>
    }

    @if (canManage()) {
      <section class="card" aria-labelledby="transfer-title">
        <h2 id="transfer-title">{{ i18n.t('inventory.transfers.new') }}</h2>
        <agora-problem-alert [problem]="problem()" [placed]="placed()" />
        <form (ngSubmit)="create()" novalidate aria-labelledby="transfer-title">
          <div class="grid-3">
            <div class="field">
              <label for="transfer-from">{{ i18n.t('inventory.transfers.from') }}</label>
              <select
                id="transfer-from"
                name="from"
                [(ngModel)]="from"
                [attr.aria-invalid]="!!error('from_location_id')"
                [attr.aria-describedby]="error('from_location_id') ? 'transfer-from-error' : null"
              >
                <option value="">{{ i18n.t('inventory.choose') }}</option>
                @for (l of locations(); track l.id) {
                  <option [value]="l.id">{{ l.name }}</option>
                }
              </select>
              <agora-field-error [problem]="problem()" field="from_location_id" for="transfer-from" />
            </div>
            <div class="field">
              <label for="transfer-to">{{ i18n.t('inventory.transfers.to') }}</label>
              <select
                id="transfer-to"
                name="to"
                [(ngModel)]="to"
                [attr.aria-invalid]="!!error('to_location_id')"
                [attr.aria-describedby]="error('to_location_id') ? 'transfer-to-error' : null"
              >
                <option value="">{{ i18n.t('inventory.choose') }}</option>
                @for (l of locations(); track l.id) {
                  <option [value]="l.id">{{ l.name }}</option>
                }
              </select>
              <agora-field-error [problem]="problem()" field="to_location_id" for="transfer-to" />
            </div>
            <div class="field">
              <label for="transfer-reference">{{ i18n.t('inventory.reference') }}</label>
              <input id="transfer-reference" name="reference" maxlength="200" [(ngModel)]="reference" />
              <agora-field-error [problem]="problem()" field="reference" for="transfer-reference" />
            </div>
            <div class="field">
              <label for="transfer-note">{{ i18n.t('inventory.note') }}</label>
              <input id="transfer-note" name="note" maxlength="1000" [(ngModel)]="note" />
              <agora-field-error [problem]="problem()" field="note" for="transfer-note" />
            </div>
          </div>
          <admin-variant-picker idPrefix="transfer" (added)="addLine($event)" />
          <h3 id="transfer-lines-title">{{ i18n.t('inventory.lines') }}</h3>
          <ul class="picked" aria-labelledby="transfer-lines-title">
            @for (line of lines(); track line.variant.id; let i = $index) {
              <li>
                <span>{{ i18n.t('inventory.line', { quantity: line.quantity, sku: line.variant.sku }) }}</span>
                <span class="hint"> {{ line.variant.label }}</span>
                <button
                  type="button"
                  class="link-button"
                  (click)="removeLine(i)"
                  [attr.aria-label]="i18n.t('inventory.remove-line', { sku: line.variant.sku })"
                >
                  {{ i18n.t('inventory.remove') }}
                </button>
                @if (lineError(i); as message) {
                  <p class="field-error">{{ message }}</p>
                }
              </li>
            } @empty {
              <li class="hint">{{ i18n.t('inventory.no-lines') }}</li>
            }
          </ul>
          @if (error('lines'); as message) {
            <p class="field-error">{{ message }}</p>
          }
          <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('inventory.transfers.create') }}</button>
        </form>
      </section>
    }`,
})
export class TransfersPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  private readonly lookups = inject(InventoryLookups);
  protected readonly canManage = computed(() => this.session.can('inventory.manage'));
  protected readonly transfers = signal<Transfer[]>([]);
  protected readonly locations = signal<Location[]>([]);
  protected readonly labels = signal<Record<string, string>>({});
  protected readonly next = signal<string | null>(null);
  protected readonly loading = signal(true);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  protected readonly from = signal('');
  protected readonly to = signal('');
  protected readonly reference = signal('');
  protected readonly note = signal('');
  protected readonly lines = signal<PickedLine[]>([]);
  protected readonly placed = computed(() => [
    ...TRANSFER_FIELDS,
    ...this.lines().flatMap((_, i) => [`lines[${i}]`, `lines[${i}].quantity`, `lines[${i}].variant_id`]),
  ]);

  async ngOnInit(): Promise<void> {
    this.locations.set(await this.lookups.locations());
    await this.load(false);
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected name(id: string): string {
    return this.locations().find((l) => l.id === id)?.name ?? '…';
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected lineError(i: number): string | null {
    return this.error(`lines[${i}].quantity`) ?? this.error(`lines[${i}].variant_id`) ?? this.error(`lines[${i}]`);
  }

  protected addLine(line: PickedLine): void {
    this.lines.update((all) => {
      const same = all.findIndex((l) => l.variant.id === line.variant.id);
      if (same < 0) return [...all, line];
      return all.map((l, i) => (i === same ? { ...l, quantity: l.quantity + line.quantity } : l));
    });
  }

  protected removeLine(i: number): void {
    this.lines.update((all) => all.filter((_, at) => at !== i));
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(
      createStockTransfer({
        headers: idempotencyKey(),
        body: {
          from_location_id: this.from(),
          to_location_id: this.to(),
          lines: this.lines().map((l) => ({ variant_id: l.variant.id, quantity: l.quantity })),
          reference: this.reference().trim() || null,
          note: this.note().trim() || null,
        },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.notice.set(this.i18n.t('inventory.transfers.created-notice', { to: this.name(result.data.to_location_id) }));
    this.lines.set([]);
    this.reference.set('');
    this.note.set('');
    await this.load(false);
  }

  protected async receive(t: Transfer): Promise<void> {
    await this.close(t, 'receive');
  }

  protected async cancel(t: Transfer): Promise<void> {
    await this.close(t, 'cancel');
  }

  private async close(t: Transfer, how: 'receive' | 'cancel'): Promise<void> {
    this.busy.set(true);
    const options = { path: { transfer_id: t.id }, headers: { ...ifMatch(t.version), ...idempotencyKey() } };
    const result = await outcome(how === 'receive' ? receiveStockTransfer(options) : cancelStockTransfer(options));
    this.busy.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      this.notice.set('');
    } else {
      this.listProblem.set(null);
      this.notice.set(
        this.i18n.t(how === 'receive' ? 'inventory.transfers.received' : 'inventory.transfers.cancelled', {
          to: this.name(t.to_location_id),
        }),
      );
    }
    await this.load(false);
  }

  async load(more: boolean): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    const result = await outcome(listStockTransfers({ query: { limit: 50, cursor } }));
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.transfers.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
    const ids = [...new Set(result.data.items.flatMap((t) => t.lines.map((l) => l.variant_id)))].filter(
      (id) => !(id in this.labels()),
    );
    const found = await Promise.all(ids.map(async (id) => [id, await this.lookups.label(id)] as const));
    if (found.length) this.labels.update((all) => ({ ...all, ...Object.fromEntries(found) }));
  }
}
