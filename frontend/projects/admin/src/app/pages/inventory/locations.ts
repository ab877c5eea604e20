import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  createStockLocation,
  deleteStockLocation,
  fieldMessage,
  listStockLocations,
  outcome,
  updateStockLocation,
  type Location,
  type Problem,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { words } from '../catalog/catalog-support';
import { ifMatch, localProblem } from './inventory-support';

interface LocationForm {
  name: string;
  line1: string;
  line2: string;
  postal_code: string;
  city: string;
  region: string;
  country: string;
  priority: string;
  active: boolean;
  pickup: boolean;
  ships_to: string;
}

const ADDRESS_FIELDS = ['line1', 'line2', 'postal_code', 'city', 'region', 'country'] as const;
const PLACED = [
  'name',
  'priority',
  'active',
  'ships_to',
  ...ADDRESS_FIELDS.map((f) => `address.${f}`),
  ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `ships_to[${i}]`),
];

function emptyForm(): LocationForm {
  return {
    name: '',
    line1: '',
    line2: '',
    postal_code: '',
    city: '',
    region: '',
    country: '',
    priority: '100',
    active: true,
    pickup: false,
    ships_to: '',
  };
}

function formOf(l: Location): LocationForm {
  return {
    name: l.name,
    line1: l.address.line1 ?? '',
    line2: l.address.line2 ?? '',
    postal_code: l.address.postal_code ?? '',
    city: l.address.city ?? '',
    region: l.address.region ?? '',
    country: l.address.country ?? '',
    priority: String(l.priority),
    active: l.active,
    pickup: l.pickup,
    ships_to: l.ships_to.join(', '),
  };
}

/** The body both create and change send: every field, empty address parts as null. */
export function locationBody(f: LocationForm) {
  const text = (value: string) => (value.trim() === '' ? null : value.trim());
  // A number input's model is a number once typed in (a string before): read either.
  const typed = String(f.priority ?? '').trim();
  const priority = typed === '' ? null : Number(typed);
  return {
    name: f.name.trim(),
    address: {
      line1: text(f.line1),
      line2: text(f.line2),
      postal_code: text(f.postal_code),
      city: text(f.city),
      region: text(f.region),
      country: text(f.country)?.toUpperCase() ?? null,
    },
    priority,
    active: f.active,
    pickup: f.pickup,
    ships_to: words(f.ships_to).map((c) => c.toUpperCase()),
  };
}

/** Where the shop keeps stock: warehouses and stores, first choice first, each with its form. */
@Component({
  selector: 'admin-inventory-locations',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('inventory.locations.title') }}</h1>
    <p>{{ i18n.t('inventory.locations.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('inventory.locations.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('inventory.locations.name') }}</th>
            <th scope="col">{{ i18n.t('inventory.locations.priority') }}</th>
            <th scope="col">{{ i18n.t('inventory.locations.address') }}</th>
            <th scope="col">{{ i18n.t('inventory.locations.ships-to') }}</th>
            <th scope="col">{{ i18n.t('inventory.locations.state') }}</th>
            @if (canManage()) {
              <th scope="col">{{ i18n.t('inventory.actions') }}</th>
            }
          </tr>
        </thead>
        <tbody>
          @for (l of locations(); track l.id) {
            <tr>
              <td>{{ l.name }}</td>
              <td>{{ l.priority }}</td>
              <td>{{ address(l) }}</td>
              <td>{{ l.ships_to.length ? l.ships_to.join(', ') : i18n.t('inventory.locations.anywhere') }}</td>
              <td>
                <span class="badge" [class.off]="!l.active">{{
                  i18n.t(l.active ? 'inventory.locations.active' : 'inventory.locations.inactive')
                }}</span>
                @if (l.pickup) {
                  <span class="badge">{{ i18n.t('inventory.locations.pickup') }}</span>
                }
              </td>
              @if (canManage()) {
                <td class="row">
                  <button
                    type="button"
                    class="button secondary"
                    (click)="edit(l)"
                    [attr.aria-label]="i18n.t('inventory.locations.edit-named', { name: l.name })"
                  >
                    {{ i18n.t('inventory.edit') }}
                  </button>
                  <button
                    type="button"
                    class="button secondary"
                    (click)="remove(l)"
                    [attr.aria-label]="i18n.t('inventory.locations.delete-named', { name: l.name })"
                  >
                    {{ i18n.t('inventory.delete') }}
                  </button>
                </td>
              }
            </tr>
          } @empty {
            <tr>
              <td [attr.colspan]="canManage() ? 6 : 5">
                {{ i18n.t(loading() ? 'common.loading' : 'inventory.locations.none') }}
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }

    @if (canManage()) {
      <section class="card" aria-labelledby="location-form-title">
        <h2 id="location-form-title">
          {{
            editing()
              ? i18n.t('inventory.locations.edit-named', { name: editing()!.name })
              : i18n.t('inventory.locations.new')
          }}
        </h2>
        <agora-problem-alert [problem]="problem()" [placed]="placed" (reload)="reloadEditing()" />
        <form (ngSubmit)="save()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="location-name">{{ i18n.t('inventory.locations.name') }}</label>
              <input
                id="location-name"
                name="name"
                required
                maxlength="200"
                [(ngModel)]="form().name"
                [attr.aria-invalid]="!!error('name')"
                [attr.aria-describedby]="error('name') ? 'location-name-error' : null"
              />
              <agora-field-error [problem]="problem()" field="name" for="location-name" />
            </div>
            <div class="field">
              <label for="location-priority">{{ i18n.t('inventory.locations.priority') }}</label>
              <input
                id="location-priority"
                name="priority"
                type="number"
                min="0"
                step="1"
                [(ngModel)]="form().priority"
                [attr.aria-invalid]="!!error('priority')"
                aria-describedby="location-priority-hint"
              />
              <p class="hint" id="location-priority-hint">{{ i18n.t('inventory.locations.priority-hint') }}</p>
              <agora-field-error [problem]="problem()" field="priority" for="location-priority" />
            </div>
            <div class="field">
              <label for="location-ships-to">{{ i18n.t('inventory.locations.ships-to-field') }}</label>
              <input
                id="location-ships-to"
                name="ships_to"
                [(ngModel)]="form().ships_to"
                [attr.aria-invalid]="!!shipsToError()"
                aria-describedby="location-ships-to-hint"
              />
              <p class="hint" id="location-ships-to-hint">{{ i18n.t('inventory.locations.ships-to-hint') }}</p>
              @if (shipsToError(); as message) {
                <p class="field-error" id="location-ships-to-error">{{ message }}</p>
              }
            </div>
          </div>
          <fieldset>
            <legend>{{ i18n.t('inventory.locations.address') }}</legend>
            <div class="grid-3">
              @for (f of addressFields; track f) {
                <div class="field">
                  <label [for]="'location-' + f">{{ i18n.t('inventory.address.' + f) }}</label>
                  <input
                    [id]="'location-' + f"
                    [name]="f"
                    [(ngModel)]="form()[f]"
                    [attr.aria-invalid]="!!error('address.' + f)"
                    [attr.aria-describedby]="error('address.' + f) ? 'location-' + f + '-error' : null"
                  />
                  <agora-field-error [problem]="problem()" [field]="'address.' + f" [for]="'location-' + f" />
                </div>
              }
            </div>
          </fieldset>
          <label class="inline">
            <input type="checkbox" name="active" [(ngModel)]="form().active" />
            {{ i18n.t('inventory.locations.active-field') }}
          </label>
          <label class="inline">
            <input type="checkbox" name="pickup" [(ngModel)]="form().pickup" />
            {{ i18n.t('inventory.locations.pickup-field') }}
          </label>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editing() ? 'inventory.locations.save' : 'inventory.locations.create') }}
            </button>
            @if (editing()) {
              <button type="button" class="button secondary" (click)="cancelEdit()">
                {{ i18n.t('common.cancel') }}
              </button>
            }
          </div>
        </form>
      </section>
    }`,
})
export class LocationsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('inventory.manage'));
  protected readonly locations = signal<Location[]>([]);
  protected readonly loading = signal(true);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  protected readonly editing = signal<Location | null>(null);
  protected readonly form = signal<LocationForm>(emptyForm());
  protected readonly addressFields = ADDRESS_FIELDS;
  protected readonly placed = PLACED;

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected address(l: Location): string {
    const a = l.address;
    return [a.line1, a.line2, [a.postal_code, a.city].filter(Boolean).join(' '), a.region, a.country]
      .filter((part) => part && part.trim())
      .join(', ');
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  /** The list's own message, or the first message about one of its countries. */
  protected shipsToError(): string | null {
    const p = this.problem();
    return this.error('ships_to') ?? p?.errors?.find((e) => e.field.startsWith('ships_to['))?.message ?? null;
  }

  protected edit(l: Location): void {
    this.editing.set(l);
    this.form.set(formOf(l));
    this.problem.set(null);
    this.notice.set('');
    setTimeout(() => document.getElementById('location-name')?.focus());
  }

  protected cancelEdit(): void {
    this.editing.set(null);
    this.form.set(emptyForm());
    this.problem.set(null);
  }

  /** After a 412: the location as it is now, with the member's typing kept. */
  protected async reloadEditing(): Promise<void> {
    const editing = this.editing();
    await this.load();
    const fresh = this.locations().find((l) => l.id === editing?.id);
    if (fresh) this.editing.set(fresh);
    this.problem.set(null);
  }

  protected async save(): Promise<void> {
    const body = locationBody(this.form());
    if (body.priority !== null && !Number.isInteger(body.priority)) {
      this.problem.set(localProblem('priority', this.i18n.t('inventory.whole-number')));
      return;
    }
    this.busy.set(true);
    const editing = this.editing();
    const result = editing
      ? await outcome(
          updateStockLocation({ path: { location_id: editing.id }, headers: ifMatch(editing.version), body }),
        )
      : await outcome(createStockLocation({ body }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.notice.set(this.i18n.t('inventory.locations.saved', { name: result.data.name }));
    this.editing.set(null);
    this.form.set(emptyForm());
    await this.load();
  }

  protected async remove(l: Location): Promise<void> {
    if (!confirm(this.i18n.t('inventory.locations.confirm-delete', { name: l.name }))) return;
    const result = await outcome(deleteStockLocation({ path: { location_id: l.id }, headers: ifMatch(l.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.notice.set(this.i18n.t('inventory.locations.deleted', { name: l.name }));
    if (this.editing()?.id === l.id) this.cancelEdit();
    await this.load();
  }

  private async load(): Promise<void> {
    const result = await outcome(listStockLocations());
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.locations.set(result.data.items);
  }
}
