import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  addMyAddress,
  fieldMessage,
  listMyAddresses,
  outcome,
  updateMyAddress,
  type Address,
  type AddressInput,
  type Problem,
} from 'shared';

const FIELDS = ['name', 'company', 'line1', 'line2', 'postal_code', 'city', 'region', 'country', 'phone'] as const;
type Field = (typeof FIELDS)[number];
const AUTOCOMPLETE: Record<Field, string> = {
  name: 'name',
  company: 'organization',
  line1: 'address-line1',
  line2: 'address-line2',
  postal_code: 'postal-code',
  city: 'address-level2',
  region: 'address-level1',
  country: 'country',
  phone: 'tel',
};

type Draft = Record<Field, string>;

function emptyDraft(): Draft {
  return { name: '', company: '', line1: '', line2: '', postal_code: '', city: '', region: '', country: '', phone: '' };
}

/** The customer's addresses: listed, added and edited (edits carry the version they started from). */
@Component({
  selector: 'shop-addresses',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h2>{{ i18n.t('account.addresses') }}</h2>
    @for (address of addresses(); track address.id) {
      <div class="card">
        <address>
          {{ address.name }}<br />
          @if (address.company) {
            {{ address.company }}<br />
          }
          {{ address.line1 }}<br />
          @if (address.line2) {
            {{ address.line2 }}<br />
          }
          {{ address.postal_code }} {{ address.city }}<br />
          {{ address.country }}
        </address>
        <button
          type="button"
          class="button secondary"
          (click)="edit(address)"
          [attr.aria-label]="i18n.t('addresses.edit') + ': ' + address.line1"
        >
          {{ i18n.t('addresses.edit') }}
        </button>
      </div>
    } @empty {
      <p>{{ i18n.t('addresses.none') }}</p>
    }
    <h3 id="address-form-title">{{ editing() ? i18n.t('addresses.edit') : i18n.t('addresses.add') }}</h3>
    <agora-problem-alert [problem]="problem()" [placed]="fields" (reload)="reload()" />
    <form (ngSubmit)="save()" novalidate aria-labelledby="address-form-title">
      @for (field of fields; track field) {
        <div class="field">
          <label [for]="'address-' + field">{{ i18n.t('address.' + field) }}</label>
          <input
            [id]="'address-' + field"
            [name]="field"
            [autocomplete]="autocomplete[field]"
            [ngModel]="draft()[field]"
            (ngModelChange)="set(field, $event)"
            [attr.aria-invalid]="!!error(field)"
            [attr.aria-describedby]="error(field) ? 'address-' + field + '-error' : null"
          />
          <agora-field-error [problem]="problem()" [field]="field" [for]="'address-' + field" />
        </div>
      }
      <div class="row">
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
        @if (editing()) {
          <button class="button secondary" type="button" (click)="cancel()">{{ i18n.t('common.cancel') }}</button>
        }
      </div>
    </form>`,
})
export class Addresses implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly fields = FIELDS;
  protected readonly autocomplete = AUTOCOMPLETE;
  protected readonly addresses = signal<Address[]>([]);
  protected readonly editing = signal<Address | null>(null);
  protected readonly draft = signal<Draft>(emptyDraft());
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected set(field: Field, value: string): void {
    this.draft.update((d) => ({ ...d, [field]: value }));
  }

  protected edit(address: Address): void {
    this.problem.set(null);
    this.editing.set(address);
    const draft = emptyDraft();
    for (const field of FIELDS) {
      draft[field] = address[field] ?? '';
    }
    this.draft.set(draft);
    globalThis.document?.getElementById('address-name')?.focus();
  }

  protected cancel(): void {
    this.editing.set(null);
    this.draft.set(emptyDraft());
    this.problem.set(null);
  }

  /** After a 412: take the address as it is now; the customer applies their change again. */
  protected async reload(): Promise<void> {
    const id = this.editing()?.id;
    await this.load();
    const fresh = this.addresses().find((a) => a.id === id);
    if (fresh) {
      this.edit(fresh);
    } else {
      this.cancel();
    }
  }

  protected async save(): Promise<void> {
    const draft = this.draft();
    const body: AddressInput = {};
    for (const field of FIELDS) {
      body[field] = draft[field].trim() === '' ? null : draft[field].trim();
    }
    const editing = this.editing();
    this.busy.set(true);
    const result = editing
      ? await outcome(
          updateMyAddress({ path: { id: editing.id }, body, headers: { 'If-Match': `"${editing.version}"` } }),
        )
      : await outcome(addMyAddress({ body }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.cancel();
    await this.load();
  }

  private async load(): Promise<void> {
    const result = await outcome(listMyAddresses());
    if (result.ok) {
      this.addresses.set(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }
}
