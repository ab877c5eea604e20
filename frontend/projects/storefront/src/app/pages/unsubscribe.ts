import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { I18n, ProblemAlert, outcome, unsubscribeFromMarketing, type Problem } from 'shared';

/**
 * The page a marketing email's unsubscribe link opens (`/unsubscribe?token=…`). It asks before
 * acting: mail scanners follow links, and a GET must not unsubscribe anybody.
 */
@Component({
  selector: 'shop-unsubscribe',
  imports: [ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('unsubscribe.title') }}</h1>
    @if (done()) {
      <p class="notice" role="status">{{ i18n.t('unsubscribe.done') }}</p>
    } @else {
      <agora-problem-alert [problem]="problem()" />
      <p>{{ i18n.t('unsubscribe.intro') }}</p>
      <button class="button" type="button" (click)="confirm()" [disabled]="busy()">
        {{ i18n.t('unsubscribe.submit') }}
      </button>
    }
  </div>`,
})
export class Unsubscribe {
  protected readonly i18n = inject(I18n);
  readonly token = input<string | undefined>();
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly done = signal(false);

  protected async confirm(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(unsubscribeFromMarketing({ body: { token: this.token() ?? '' } }));
    this.busy.set(false);
    if (result.ok) {
      this.done.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }
}
