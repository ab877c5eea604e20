import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  commitStockReservation,
  createStockHold,
  extendStockReservation,
  fieldMessage,
  getInventorySettings,
  listStockReservations,
  outcome,
  releaseStockReservation,
  type Location,
  type Problem,
  type Reservation,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { when } from '../../texts/when';
import { InventoryLookups, idempotencyKey, minutesLeft } from './inventory-support';
import { VariantPicker, type PickedLine } from './variant-picker';

const HOLD_FIELDS = ['reference', 'lines', 'location_id', 'ship_to_country', 'expires_in_minutes', 'note'];

/**
 * Reservations in force, soonest to expire first, with release, commit and extend; and a form
 * that holds stock for a phone order or a customer (the same reservation checkout makes).
 * Every action carries an `Idempotency-Key`, so a repeated click acts once.
 */
@Component({
  selector: 'admin-inventory-reservations',
  imports: [FormsModule, FieldError, ProblemAlert, VariantPicker],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('inventory.reservations.title') }}</h1>
    <p>{{ i18n.t('inventory.reservations.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('inventory.reservations.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('inventory.reference') }}</th>
            <th scope="col">{{ i18n.t('inventory.lines') }}</th>
            <th scope="col">{{ i18n.t('inventory.reservations.expires') }}</th>
            <th scope="col">{{ i18n.t('inventory.ledger.by') }}</th>
            @if (canManage()) {
              <th scope="col">{{ i18n.t('inventory.actions') }}</th>
            }
          </tr>
        </thead>
        <tbody>
          @for (r of reservations(); track r.id; let i = $index) {
            <tr>
              <td>
                {{ r.reference }}
                @if (r.note) {
                  <br /><span class="hint">{{ r.note }}</span>
                }
              </td>
              <td>
                <ul class="plain-list">
                  @for (line of r.lines; track $index) {
                    <li>{{ lineText(line) }}</li>
                  }
                </ul>
              </td>
              <td>
                {{ when(r.expires_at) }}<br />
                <span class="hint">{{ left(r.expires_at) }}</span>
              </td>
              <td class="break">{{ r.created_by }}</td>
              @if (canManage()) {
                <td>
                  <div class="row">
                    <label class="visually-hidden" [for]="'extend-' + i">{{
                      i18n.t('inventory.reservations.extend-minutes', { reference: r.reference })
                    }}</label>
                    <input
                      [id]="'extend-' + i"
                      class="minutes"
                      type="number"
                      min="1"
                      max="10080"
                      step="1"
                      [value]="extendBy()[r.id] ?? '15'"
                      (input)="setExtend(r.id, $event)"
                    />
                    <button
                      type="button"
                      class="button secondary"
                      [disabled]="busy()"
                      (click)="extend(r)"
                      [attr.aria-label]="i18n.t('inventory.reservations.extend-named', { reference: r.reference })"
                    >
                      {{ i18n.t('inventory.reservations.extend') }}
                    </button>
                  </div>
                  <div class="row">
                    <button
                      type="button"
                      class="button secondary"
                      [disabled]="busy()"
                      (click)="commit(r)"
                      [attr.aria-label]="i18n.t('inventory.reservations.commit-named', { reference: r.reference })"
                    >
                      {{ i18n.t('inventory.reservations.commit') }}
                    </button>
                    <button
                      type="button"
                      class="button secondary"
                      [disabled]="busy()"
                      (click)="release(r)"
                      [attr.aria-label]="i18n.t('inventory.reservations.release-named', { reference: r.reference })"
                    >
                      {{ i18n.t('inventory.reservations.release') }}
                    </button>
                  </div>
                </td>
              }
            </tr>
          } @empty {
            <tr>
              <td [attr.colspan]="canManage() ? 5 : 4">
                {{ i18n.t(loading() ? 'common.loading' : 'inventory.reservations.none') }}
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <div class="row">
      <button type="button" class="button secondary" (click)="load(false)">
        {{ i18n.t('inventory.refresh') }}
      </button>
      @if (next()) {
        <button type="button" class="button secondary" (click)="load(true)">{{ i18n.t('inventory.more') }}</button>
      }
    </div>

    @if (canManage()) {
      <section class="card" aria-labelledby="hold-title">
        <h2 id="hold-title">{{ i18n.t('inventory.hold.title') }}</h2>
        <p class="hint">{{ i18n.t('inventory.hold.intro') }}</p>
        <agora-problem-alert [problem]="problem()" [placed]="placed()" />
        <form (ngSubmit)="hold()" novalidate aria-labelledby="hold-title">
          <div class="grid-3">
            <div class="field">
              <label for="hold-reference">{{ i18n.t('inventory.hold.reference') }}</label>
              <input
                id="hold-reference"
                name="reference"
                required
                maxlength="200"
                [(ngModel)]="reference"
                [attr.aria-invalid]="!!error('reference')"
                [attr.aria-describedby]="error('reference') ? 'hold-reference-error' : null"
              />
              <agora-field-error [problem]="problem()" field="reference" for="hold-reference" />
            </div>
            <div class="field">
              <label for="hold-minutes">{{ i18n.t('inventory.hold.minutes') }}</label>
              <input
                id="hold-minutes"
                name="expires_in_minutes"
                type="number"
                min="1"
                max="10080"
                step="1"
                [placeholder]="defaultMinutes()"
                [(ngModel)]="minutes"
                [attr.aria-invalid]="!!error('expires_in_minutes')"
                aria-describedby="hold-minutes-hint"
              />
              <p class="hint" id="hold-minutes-hint">
                {{ i18n.t('inventory.hold.minutes-hint', { minutes: defaultMinutes() }) }}
              </p>
              <agora-field-error [problem]="problem()" field="expires_in_minutes" for="hold-minutes" />
            </div>
            <div class="field">
              <label for="hold-location">{{ i18n.t('inventory.hold.location') }}</label>
              <select id="hold-location" name="location_id" [(ngModel)]="location">
                <option value="">{{ i18n.t('inventory.hold.any-location') }}</option>
                @for (l of locations(); track l.id) {
                  <option [value]="l.id">{{ l.name }}</option>
                }
              </select>
              <agora-field-error [problem]="problem()" field="location_id" for="hold-location" />
            </div>
            <div class="field">
              <label for="hold-country">{{ i18n.t('inventory.hold.country') }}</label>
              <input
                id="hold-country"
                name="ship_to_country"
                maxlength="2"
                [(ngModel)]="country"
                [attr.aria-invalid]="!!error('ship_to_country')"
                [attr.aria-describedby]="error('ship_to_country') ? 'hold-country-error' : null"
              />
              <agora-field-error [problem]="problem()" field="ship_to_country" for="hold-country" />
            </div>
            <div class="field">
              <label for="hold-note">{{ i18n.t('inventory.note') }}</label>
              <input id="hold-note" name="note" maxlength="1000" [(ngModel)]="note" />
              <agora-field-error [problem]="problem()" field="note" for="hold-note" />
            </div>
          </div>
          <admin-variant-picker idPrefix="hold" (added)="addLine($event)" />
          <h3 id="hold-lines-title">{{ i18n.t('inventory.lines') }}</h3>
          <ul class="picked" aria-labelledby="hold-lines-title">
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
                  <p class="field-error" [id]="'hold-line-' + i + '-error'">{{ message }}</p>
                }
              </li>
            } @empty {
              <li class="hint">{{ i18n.t('inventory.no-lines') }}</li>
            }
          </ul>
          @if (error('lines'); as message) {
            <p class="field-error">{{ message }}</p>
          }
          <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('inventory.hold.submit') }}</button>
        </form>
      </section>
    }`,
})
export class ReservationsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  private readonly lookups = inject(InventoryLookups);
  protected readonly canManage = computed(() => this.session.can('inventory.manage'));
  protected readonly reservations = signal<Reservation[]>([]);
  protected readonly locations = signal<Location[]>([]);
  protected readonly labels = signal<Record<string, string>>({});
  protected readonly next = signal<string | null>(null);
  protected readonly loading = signal(true);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  protected readonly extendBy = signal<Record<string, string>>({});
  protected readonly defaultMinutes = signal('15');
  protected readonly reference = signal('');
  protected readonly minutes = signal('');
  protected readonly location = signal('');
  protected readonly country = signal('');
  protected readonly note = signal('');
  protected readonly lines = signal<PickedLine[]>([]);
  protected readonly placed = computed(() => [
    ...HOLD_FIELDS,
    ...this.lines().flatMap((_, i) => [`lines[${i}]`, `lines[${i}].quantity`, `lines[${i}].variant_id`]),
  ]);

  async ngOnInit(): Promise<void> {
    const [locations, settings] = await Promise.all([this.lookups.locations(), outcome(getInventorySettings())]);
    this.locations.set(locations);
    if (settings.ok) this.defaultMinutes.set(String(settings.data.reservation_minutes));
    await this.load(false);
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected left(iso: string): string {
    const minutes = minutesLeft(iso);
    return minutes > 0
      ? this.i18n.t('inventory.reservations.in-minutes', { minutes })
      : this.i18n.t('inventory.reservations.due');
  }

  protected lineText(line: Reservation['lines'][number]): string {
    return this.i18n.t('inventory.line-at', {
      quantity: line.quantity,
      sku: this.labels()[line.variant_id] ?? '…',
      location: this.locations().find((l) => l.id === line.location_id)?.name ?? '…',
    });
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected lineError(i: number): string | null {
    return this.error(`lines[${i}].quantity`) ?? this.error(`lines[${i}].variant_id`) ?? this.error(`lines[${i}]`);
  }

  protected setExtend(id: string, event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    this.extendBy.update((all) => ({ ...all, [id]: value }));
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

  protected async hold(): Promise<void> {
    const minutes = String(this.minutes() ?? '').trim();
    this.busy.set(true);
    const result = await outcome(
      createStockHold({
        headers: idempotencyKey(),
        body: {
          reference: this.reference().trim(),
          lines: this.lines().map((l) => ({ variant_id: l.variant.id, quantity: l.quantity })),
          location_id: this.location() || null,
          ship_to_country: this.country().trim().toUpperCase() || null,
          expires_in_minutes: minutes === '' ? null : Number(minutes),
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
    this.notice.set(this.i18n.t('inventory.hold.done', { reference: result.data.reference }));
    this.reference.set('');
    this.minutes.set('');
    this.note.set('');
    this.lines.set([]);
    await this.load(false);
  }

  protected async extend(r: Reservation): Promise<void> {
    const minutes = Number(this.extendBy()[r.id] ?? '15');
    await this.act(
      r,
      extendStockReservation({
        path: { reservation_id: r.id },
        headers: idempotencyKey(),
        body: { expires_in_minutes: minutes },
      }),
      'inventory.reservations.extended',
    );
  }

  protected async commit(r: Reservation): Promise<void> {
    await this.act(
      r,
      commitStockReservation({ path: { reservation_id: r.id }, headers: idempotencyKey() }),
      'inventory.reservations.committed',
    );
  }

  protected async release(r: Reservation): Promise<void> {
    await this.act(
      r,
      releaseStockReservation({ path: { reservation_id: r.id }, headers: idempotencyKey() }),
      'inventory.reservations.released',
    );
  }

  private async act(r: Reservation, call: Parameters<typeof outcome>[0], done: string): Promise<void> {
    this.busy.set(true);
    const result = await outcome(call);
    this.busy.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      this.notice.set('');
    } else {
      this.listProblem.set(null);
      this.notice.set(this.i18n.t(done, { reference: r.reference }));
    }
    await this.load(false);
  }

  async load(more: boolean): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    const result = await outcome(listStockReservations({ query: { limit: 50, cursor } }));
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.reservations.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
    await this.label(result.data.items.flatMap((r) => r.lines.map((l) => l.variant_id)));
  }

  private async label(ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !(id in this.labels()));
    const found = await Promise.all(missing.map(async (id) => [id, await this.lookups.label(id)] as const));
    if (found.length) this.labels.update((all) => ({ ...all, ...Object.fromEntries(found) }));
  }
}
