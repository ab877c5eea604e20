import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  etagOf,
  fieldMessage,
  getInventorySettings,
  outcome,
  updateInventorySettings,
  type Problem,
} from 'shared';
import { localProblem } from './inventory-support';

/** The shop's inventory settings: how long a reservation (a checkout's, a manual hold) holds. */
@Component({
  selector: 'admin-inventory-settings',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('inventory.settings.title') }}</h1>
    <agora-problem-alert [problem]="problem()" [placed]="['reservation_minutes']" (reload)="load()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <form (ngSubmit)="save()" novalidate>
      <div class="field">
        <label for="reservation-minutes">{{ i18n.t('inventory.settings.minutes') }}</label>
        <input
          id="reservation-minutes"
          name="reservation_minutes"
          type="number"
          min="1"
          max="10080"
          step="1"
          required
          [(ngModel)]="minutes"
          [attr.aria-invalid]="!!error()"
          [attr.aria-describedby]="
            error() ? 'reservation-minutes-hint reservation-minutes-error' : 'reservation-minutes-hint'
          "
        />
        <p class="hint" id="reservation-minutes-hint">{{ i18n.t('inventory.settings.minutes-hint') }}</p>
        <agora-field-error [problem]="problem()" field="reservation_minutes" for="reservation-minutes" />
      </div>
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
    </form>`,
})
export class InventorySettingsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly minutes = signal('15');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly notice = signal('');
  protected readonly busy = signal(false);
  /** The ETag of the settings as last read or saved (they carry no version field of their own). */
  private version: string | null = null;

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected error(): string | null {
    return fieldMessage(this.problem(), 'reservation_minutes');
  }

  async load(): Promise<void> {
    const call = getInventorySettings();
    const result = await outcome(call);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.minutes.set(String(result.data.reservation_minutes));
    this.version = await etagOf(call);
  }

  protected async save(): Promise<void> {
    const minutes = Number(this.minutes());
    if (!Number.isInteger(minutes)) {
      this.problem.set(localProblem('reservation_minutes', this.i18n.t('inventory.whole-number')));
      return;
    }
    this.busy.set(true);
    const call = updateInventorySettings({
      headers: this.version ? { 'If-Match': this.version } : {},
      body: { reservation_minutes: minutes },
    });
    const result = await outcome(call);
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.minutes.set(String(result.data.reservation_minutes));
    this.version = await etagOf(call);
    this.notice.set(this.i18n.t('common.saved'));
  }
}
