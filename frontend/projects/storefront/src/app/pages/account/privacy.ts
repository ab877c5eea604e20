import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  eraseMyAccount,
  exportMyData,
  fieldMessage,
  outcome,
  type Problem,
} from 'shared';
import { Customer } from '../../customer';

/** The customer's GDPR rights: a copy of their data, and erasure. */
@Component({
  selector: 'shop-privacy',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `@if (erased()) {
      <p class="notice" role="status">{{ i18n.t('privacy.erased') }}</p>
    } @else {
      <section aria-labelledby="export-title">
        <h2 id="export-title">{{ i18n.t('privacy.export-title') }}</h2>
        <p>{{ i18n.t('privacy.export-intro') }}</p>
        <agora-problem-alert [problem]="exportProblem()" />
        <button type="button" class="button secondary" (click)="download()">{{ i18n.t('privacy.export') }}</button>
      </section>
      <section aria-labelledby="erase-title">
        <h2 id="erase-title">{{ i18n.t('privacy.erase-title') }}</h2>
        <p id="erase-intro">{{ i18n.t('privacy.erase-intro') }}</p>
        <agora-problem-alert [problem]="problem()" [placed]="['password']" />
        <form (ngSubmit)="erase()" novalidate>
          <div class="field">
            <label for="erase-password">{{ i18n.t('field.password') }}</label>
            <input
              id="erase-password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              [(ngModel)]="password"
              [attr.aria-invalid]="!!error()"
              [attr.aria-describedby]="error() ? 'erase-intro erase-password-error' : 'erase-intro'"
            />
            <agora-field-error [problem]="problem()" field="password" for="erase-password" />
          </div>
          <button class="button danger" type="submit" [disabled]="busy()">{{ i18n.t('privacy.erase') }}</button>
        </form>
      </section>
    }`,
})
export class Privacy {
  protected readonly i18n = inject(I18n);
  private readonly customer = inject(Customer);
  protected readonly password = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly exportProblem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly erased = signal(false);

  protected error(): string | null {
    return fieldMessage(this.problem(), 'password');
  }

  protected async download(): Promise<void> {
    const result = await outcome(exportMyData());
    if (!result.ok) {
      this.exportProblem.set(result.problem);
      return;
    }
    const blob = new Blob([JSON.stringify(result.data, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = 'my-data.json';
    link.click();
    URL.revokeObjectURL(url);
  }

  protected async erase(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(eraseMyAccount({ body: { password: this.password() } }));
    this.busy.set(false);
    if (result.ok) {
      this.erased.set(true);
      this.customer.forget();
    } else {
      this.problem.set(result.problem);
    }
  }
}
