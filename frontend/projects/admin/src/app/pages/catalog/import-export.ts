import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n, ProblemAlert, exportProducts, importProducts, outcome, type Problem } from 'shared';
import { TaskProgress } from './task-progress';

/**
 * Products in and out as CSV (one row per variant, `docs/catalog-csv.md`). Both run as tasks: a
 * wrong header is refused at once, refused rows are listed with their line once the task ends,
 * and an export's file is offered when it is ready.
 */
@Component({
  selector: 'admin-import-export',
  imports: [RouterLink, ProblemAlert, TaskProgress],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<p>
      <a routerLink="/products">{{ i18n.t('catalog.csv.back') }}</a>
    </p>
    <h1>{{ i18n.t('catalog.csv.title') }}</h1>
    <section class="card" aria-labelledby="csv-import-title">
      <h2 id="csv-import-title">{{ i18n.t('catalog.csv.import') }}</h2>
      <p>{{ i18n.t('catalog.csv.import-intro') }}</p>
      <form (submit)="$event.preventDefault(); upload()" novalidate>
        <div class="field">
          <label for="csv-file">{{ i18n.t('catalog.csv.file') }}</label>
          <input id="csv-file" type="file" accept=".csv,text/csv" (change)="choose($event)" />
        </div>
        <agora-problem-alert [problem]="importProblem()" />
        <button class="button" type="submit" [disabled]="busy() || !file()">{{ i18n.t('catalog.csv.upload') }}</button>
      </form>
    </section>
    @if (importTask(); as id) {
      <admin-task-progress [taskId]="id" [title]="i18n.t('catalog.csv.import-task')" />
    }
    <section class="card" aria-labelledby="csv-export-title">
      <h2 id="csv-export-title">{{ i18n.t('catalog.csv.export') }}</h2>
      <p>{{ i18n.t('catalog.csv.export-intro') }}</p>
      <agora-problem-alert [problem]="exportProblem()" />
      <button type="button" class="button" [disabled]="busy()" (click)="exportAll()">
        {{ i18n.t('catalog.csv.export-all') }}
      </button>
    </section>
    @if (exportTask(); as id) {
      <admin-task-progress [taskId]="id" [title]="i18n.t('catalog.csv.export-task')" />
    }`,
})
export class ImportExportPage {
  protected readonly i18n = inject(I18n);
  protected readonly file = signal<File | null>(null);
  protected readonly busy = signal(false);
  protected readonly importProblem = signal<Problem | null>(null);
  protected readonly exportProblem = signal<Problem | null>(null);
  protected readonly importTask = signal<string | null>(null);
  protected readonly exportTask = signal<string | null>(null);

  protected choose(event: Event): void {
    this.file.set((event.target as HTMLInputElement).files?.[0] ?? null);
    this.importProblem.set(null);
  }

  protected async upload(): Promise<void> {
    const file = this.file();
    if (!file) return;
    this.busy.set(true);
    // The API takes the file itself as the body (text/csv), not a form, so it is sent unserialized.
    const result = await outcome(
      importProducts({ body: file as never, bodySerializer: null, headers: { 'Content-Type': 'text/csv' } }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.importProblem.set(result.problem);
      return;
    }
    this.importProblem.set(null);
    this.importTask.set(result.data.task_id);
  }

  protected async exportAll(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(exportProducts());
    this.busy.set(false);
    if (!result.ok) {
      this.exportProblem.set(result.problem);
      return;
    }
    this.exportProblem.set(null);
    this.exportTask.set(result.data.task_id);
  }
}
