import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  etagOf,
  getCartSettings,
  outcome,
  updateCartSettings,
  type Problem,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { PRICING_CART } from '../../texts/pricing-cart';
import { rulesBody, rulesForm, type CartRulesForm } from './cart-rules-support';

/** The shop's cart rules: when idle carts are abandoned, and how much one cart may hold. */
@Component({
  selector: 'admin-cart-rules',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.cart.title') }}</h1>
    <p>{{ i18n.t('pricing.cart.intro') }}</p>
    <agora-problem-alert [problem]="problem()" [placed]="fields" (reload)="load()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <form (ngSubmit)="save()" novalidate>
      @for (field of rows; track field.name) {
        <div class="field">
          <label [for]="field.id">{{ i18n.t(field.label) }}</label>
          <input
            [id]="field.id"
            [name]="field.name"
            type="number"
            min="1"
            step="1"
            required
            [disabled]="!canManage()"
            [ngModel]="form()[field.name]"
            (ngModelChange)="set(field.name, $event)"
            [attr.aria-describedby]="field.id + '-hint'"
          />
          <p class="hint" [id]="field.id + '-hint'">{{ i18n.t(field.hint) }}</p>
          <agora-field-error [problem]="problem()" [field]="field.name" [for]="field.id" />
        </div>
      }
      @if (canManage()) {
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
      }
    </form>`,
})
export class CartRulesPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('pricing.manage'));
  protected readonly fields = ['abandon_after_minutes', 'max_line_quantity', 'max_lines'];
  protected readonly rows: { name: keyof CartRulesForm; id: string; label: string; hint: string }[] = [
    {
      name: 'abandon_after_minutes',
      id: 'cart-abandon',
      label: 'pricing.cart.abandon',
      hint: 'pricing.cart.abandon-hint',
    },
    {
      name: 'max_line_quantity',
      id: 'cart-max-quantity',
      label: 'pricing.cart.max-quantity',
      hint: 'pricing.cart.max-quantity-hint',
    },
    { name: 'max_lines', id: 'cart-max-lines', label: 'pricing.cart.max-lines', hint: 'pricing.cart.max-lines-hint' },
  ];
  protected readonly form = signal<CartRulesForm>({ abandon_after_minutes: '', max_line_quantity: '', max_lines: '' });
  protected readonly problem = signal<Problem | null>(null);
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  /** The ETag of the rules as last read or saved, for the next `If-Match`. */
  private version: string | null = null;

  constructor() {
    this.i18n.register(PRICING_CART);
  }

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected set(name: keyof CartRulesForm, value: unknown): void {
    this.form.update((form) => ({ ...form, [name]: value === null || value === undefined ? '' : String(value) }));
  }

  async load(): Promise<void> {
    const call = getCartSettings();
    const result = await outcome(call);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.form.set(rulesForm(result.data));
    this.version = await etagOf(call);
  }

  protected async save(): Promise<void> {
    this.notice.set('');
    const checked = rulesBody(this.form(), this.i18n.t('pricing.cart.whole-number'));
    if ('problem' in checked) {
      this.problem.set(checked.problem);
      return;
    }
    this.busy.set(true);
    const call = updateCartSettings({
      headers: this.version ? { 'If-Match': this.version } : {},
      body: checked.body,
    });
    const result = await outcome(call);
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.form.set(rulesForm(result.data));
    this.version = await etagOf(call);
    this.notice.set(this.i18n.t('pricing.cart.saved'));
  }
}
