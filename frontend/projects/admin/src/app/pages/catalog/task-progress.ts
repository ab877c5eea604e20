import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  input,
  output,
  signal,
} from '@angular/core';
import { I18n, ProblemAlert, cancelTask, getTask, outcome, type Problem, type TaskDetail } from 'shared';

const FINISHED = ['succeeded', 'failed', 'cancelled'];
const POLL_MS = 500;

/**
 * A background task (bulk change, import, export) as it runs: status, a progress bar, rows
 * done and refused, the refused rows with their line numbers, and the file it produced. It asks
 * the tasks API twice a second until the task has finished, then tells its page once.
 */
@Component({
  selector: 'admin-task-progress',
  imports: [ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<section class="card task" [attr.aria-labelledby]="'task-' + taskId()">
    <h3 [id]="'task-' + taskId()">{{ title() }}</h3>
    <agora-problem-alert [problem]="problem()" />
    @if (detail(); as d) {
      <p role="status" class="task-status">
        <span [class]="'badge status-' + d.task.status">{{ i18n.t('catalog.task.' + d.task.status) }}</span>
        {{ d.task.percent }} %
        @if (d.task.rows_total !== null && d.task.rows_total !== undefined) {
          · {{ i18n.t('catalog.task.rows-of', { done: d.task.rows_done, total: d.task.rows_total }) }}
        } @else if (d.task.rows_done) {
          · {{ i18n.t('catalog.task.rows', { done: d.task.rows_done }) }}
        }
        @if (d.task.rows_failed) {
          · {{ i18n.t('catalog.task.refused', { count: d.task.rows_failed }) }}
        }
      </p>
      <progress
        max="100"
        [value]="d.task.percent"
        [attr.aria-label]="i18n.t('catalog.task.progress', { title: title() })"
      ></progress>
      @if (d.task.failure) {
        <p class="field-error">{{ d.task.failure }}</p>
      }
      @if (d.errors.length) {
        <table class="task-errors">
          <caption>
            {{
              i18n.t('catalog.task.refused-rows', { count: d.task.error_count })
            }}
          </caption>
          <thead>
            <tr>
              <th scope="col">{{ i18n.t('catalog.task.line') }}</th>
              <th scope="col">{{ i18n.t('catalog.task.field') }}</th>
              <th scope="col">{{ i18n.t('catalog.task.reason') }}</th>
            </tr>
          </thead>
          <tbody>
            @for (e of d.errors; track $index) {
              <tr>
                <td>{{ e.line }}</td>
                <td>{{ e.field }}</td>
                <td>{{ e.message }}</td>
              </tr>
            }
          </tbody>
        </table>
      }
      <div class="row">
        @if (d.task.result; as file) {
          <a class="button" [href]="file.download" [attr.download]="file.name">{{
            i18n.t('catalog.task.download', { name: file.name })
          }}</a>
        }
        @if (!finished() && !d.task.cancel_requested) {
          <button type="button" class="button secondary" (click)="cancel()">{{ i18n.t('catalog.task.cancel') }}</button>
        }
      </div>
    } @else {
      <p role="status">{{ i18n.t('catalog.task.starting') }}</p>
    }
  </section>`,
})
export class TaskProgress {
  protected readonly i18n = inject(I18n);
  readonly taskId = input.required<string>();
  readonly title = input('Task');
  /** Emitted once, with the task's final state. */
  readonly done = output<TaskDetail>();
  protected readonly detail = signal<TaskDetail | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly finished = computed(() => FINISHED.includes(this.detail()?.task.status ?? ''));
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
    effect(() => {
      const id = this.taskId();
      this.stop();
      this.stopped = false;
      this.detail.set(null);
      void this.poll(id);
    });
  }

  protected async cancel(): Promise<void> {
    const result = await outcome(cancelTask({ path: { id: this.taskId() } }));
    if (!result.ok) this.problem.set(result.problem);
  }

  private async poll(id: string): Promise<void> {
    if (this.stopped) return;
    const result = await outcome(getTask({ path: { id } }));
    if (this.stopped || id !== this.taskId()) return;
    if (result.ok) {
      this.problem.set(null);
      this.detail.set(result.data);
      if (FINISHED.includes(result.data.task.status)) {
        this.done.emit(result.data);
        return;
      }
    } else {
      this.problem.set(result.problem);
      if (result.status === 404 || result.status === 403) return;
    }
    this.timer = setTimeout(() => void this.poll(id), POLL_MS);
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
