import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import type { Problem } from '../api';
import { fieldMessage } from '../problem';

/**
 * The API's message for one field, shown under it. The input names this element in
 * `aria-describedby` (its id is `<for>-error`) so screen readers read the message with the field.
 */
@Component({
  selector: 'agora-field-error',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `@if (message(); as text) {
    <p class="field-error" [id]="for() + '-error'">{{ text }}</p>
  }`,
})
export class FieldError {
  readonly problem = input<Problem | null>(null);
  /** The API's name for the field (`email`, `address.postal_code`). */
  readonly field = input.required<string>();
  /** The id of the input this message belongs to. */
  readonly for = input.required<string>();
  protected readonly message = computed(() => fieldMessage(this.problem(), this.field()));
}
