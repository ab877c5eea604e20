import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { FieldError, I18n, ProblemAlert, fieldMessage, outcome, updateMyAccount, type Problem } from 'shared';
import { Customer } from '../../customer';

@Component({
  selector: 'shop-profile',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h2>{{ i18n.t('account.profile') }}</h2>
    @if (customer.account(); as account) {
      <p>
        {{ i18n.t('field.email') }}: <strong>{{ account.email }}</strong>
      </p>
      @if (!account.email_verified) {
        <p class="notice" role="status">{{ i18n.t('profile.email-unverified') }}</p>
      }
      <agora-problem-alert [problem]="problem()" [placed]="['name']" />
      @if (saved()) {
        <p class="notice" role="status">{{ i18n.t('common.saved') }}</p>
      }
      <form (ngSubmit)="save()" novalidate>
        <div class="field">
          <label for="name">{{ i18n.t('field.name') }}</label>
          <input
            id="name"
            name="name"
            autocomplete="name"
            [(ngModel)]="name"
            [attr.aria-invalid]="!!error()"
            [attr.aria-describedby]="error() ? 'name-error' : null"
          />
          <agora-field-error [problem]="problem()" field="name" for="name" />
        </div>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
      </form>
    }`,
})
export class Profile {
  protected readonly i18n = inject(I18n);
  protected readonly customer = inject(Customer);
  protected readonly name = signal(this.customer.account()?.name ?? '');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly saved = signal(false);

  protected error(): string | null {
    return fieldMessage(this.problem(), 'name');
  }

  protected async save(): Promise<void> {
    this.busy.set(true);
    this.saved.set(false);
    // The language the shop writes to this customer in follows the one they browse in.
    const result = await outcome(updateMyAccount({ body: { name: this.name(), locale: this.i18n.locale() } }));
    this.busy.set(false);
    if (result.ok) {
      this.problem.set(null);
      this.saved.set(true);
      this.customer.account.set(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }
}
