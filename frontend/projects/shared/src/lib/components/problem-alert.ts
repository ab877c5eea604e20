import { ChangeDetectionStrategy, Component, computed, inject, input, output } from '@angular/core';
import type { Problem } from '../api';
import { I18n } from '../i18n';
import { isVersionConflict, unplacedErrors } from '../problem';

/**
 * What went wrong with a form as a whole: the problem's title and detail, the field errors no
 * field on the form shows, and for a 412 (someone changed the thing meanwhile) a button to
 * reload and apply the change again.
 */
@Component({
  selector: 'agora-problem-alert',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `@if (problem(); as p) {
    <div class="problem-alert" role="alert">
      @if (conflict()) {
        <p>{{ i18n.t('common.conflict') }}</p>
        <button type="button" class="button secondary" (click)="reload.emit()">{{ i18n.t('common.reload') }}</button>
      } @else {
        <p class="problem-title">{{ p.title }}</p>
        @if (p.detail && p.detail !== p.title) {
          <p>{{ p.detail }}</p>
        }
        @if (p.errors?.length) {
          <p>{{ i18n.t('common.fix-fields') }}</p>
        }
        @if (others().length) {
          <ul>
            @for (e of others(); track e.field) {
              <li>{{ e.field }}: {{ e.message }}</li>
            }
          </ul>
        }
      }
    </div>
  }`,
})
export class ProblemAlert {
  protected readonly i18n = inject(I18n);
  readonly problem = input<Problem | null>(null);
  /** The fields the form shows errors for itself. */
  readonly placed = input<readonly string[]>([]);
  readonly reload = output<void>();
  protected readonly conflict = computed(() => isVersionConflict(this.problem()));
  protected readonly others = computed(() => {
    const p = this.problem();
    return p ? unplacedErrors(p, this.placed()) : [];
  });
}
