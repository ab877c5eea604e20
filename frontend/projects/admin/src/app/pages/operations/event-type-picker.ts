import { ChangeDetectionStrategy, Component, inject, input, model } from '@angular/core';
import { FieldError, I18n, fieldMessage, type Problem } from 'shared';

/** The events an endpoint receives: every event (`*`), or the ones ticked. */
@Component({
  selector: 'admin-event-type-picker',
  imports: [FieldError],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<fieldset class="checks" [attr.aria-describedby]="invalid() ? idPrefix() + '-events-error' : null">
    <legend>{{ i18n.t('webhooks.events') }}</legend>
    <label>
      <input type="checkbox" [checked]="all()" (change)="toggle('*')" />
      {{ i18n.t('webhooks.all-events') }}
    </label>
    @if (!all()) {
      @for (type of available(); track type) {
        <label>
          <input type="checkbox" [checked]="chosen().includes(type)" (change)="toggle(type)" />
          <code>{{ type }}</code>
        </label>
      }
    }
    <agora-field-error [problem]="problem()" field="event_types" [for]="idPrefix() + '-events'" />
  </fieldset>`,
})
export class EventTypePicker {
  protected readonly i18n = inject(I18n);
  readonly idPrefix = input.required<string>();
  readonly available = input<readonly string[]>([]);
  readonly chosen = model<string[]>([]);
  readonly problem = input<Problem | null>(null);

  protected invalid(): boolean {
    return fieldMessage(this.problem(), 'event_types') !== null;
  }

  protected all(): boolean {
    return this.chosen().includes('*');
  }

  protected toggle(type: string): void {
    if (type === '*') {
      this.chosen.set(this.all() ? [] : ['*']);
      return;
    }
    this.chosen.update((types) => (types.includes(type) ? types.filter((t) => t !== type) : [...types, type]));
  }
}
