import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';
import { ActivatedRoute, Router } from '@angular/router';
import { I18n, ProblemAlert, listJobs, outcome, retryJob, type Page_JobSummary_, type Problem } from 'shared';
import { when } from '../texts/when';
import { PagedList } from './paged-list';

export type Job = Page_JobSummary_['items'][number];

/** The queue's states, as the API names them (its filter refuses anything else). */
export const JOB_STATES = ['queued', 'running', 'retry', 'succeeded', 'dead', 'cancelled'] as const;

/** What an operator may put back in the queue: the API retries only these. */
export function retryable(job: Job): boolean {
  return job.state === 'retry' || job.state === 'dead' || job.state === 'cancelled';
}

const PAGE_SIZE = 25;

/**
 * The job queue across every shop, newest first, filtered by state, kind or the event a
 * delivery belongs to. The filters live in the address (`?state=dead&kind=…`), so a filtered
 * view can be shared and the events page can link to an event's deliveries.
 */
@Component({
  selector: 'admin-platform-jobs',
  imports: [FormsModule, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('console.jobs.title') }}</h1>
    <p>{{ i18n.t('console.jobs.intro') }}</p>
    <form class="filters" (ngSubmit)="apply()" [attr.aria-label]="i18n.t('console.filters')">
      <div class="field">
        <label for="job-state">{{ i18n.t('console.jobs.state') }}</label>
        <select id="job-state" name="state" [(ngModel)]="state">
          <option value="">{{ i18n.t('console.any') }}</option>
          @for (s of states; track s) {
            <option [value]="s">{{ i18n.t('console.state.' + s) }}</option>
          }
        </select>
      </div>
      <div class="field">
        <label for="job-kind">{{ i18n.t('console.jobs.kind') }}</label>
        <input id="job-kind" name="kind" [(ngModel)]="kind" aria-describedby="job-kind-hint" />
        <p class="hint" id="job-kind-hint">{{ i18n.t('console.jobs.kind-hint') }}</p>
      </div>
      <div class="row">
        <button class="button" type="submit">{{ i18n.t('console.show') }}</button>
        <button class="button secondary" type="button" (click)="clear()">{{ i18n.t('console.clear') }}</button>
        <button class="button secondary" type="button" (click)="list.reload()">{{ i18n.t('console.refresh') }}</button>
      </div>
    </form>
    @if (eventId(); as id) {
      <p>{{ i18n.t('console.jobs.event', { id }) }}</p>
    }
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    <agora-problem-alert [problem]="actionProblem()" />
    <agora-problem-alert [problem]="list.problem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('console.jobs.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('console.jobs.job') }}</th>
            <th scope="col">{{ i18n.t('console.jobs.state') }}</th>
            <th scope="col">{{ i18n.t('console.when') }}</th>
            <th scope="col">{{ i18n.t('console.error') }}</th>
            <th scope="col">{{ i18n.t('console.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (job of list.items(); track job.job_id) {
            <tr>
              <td>
                <code>{{ job.kind }}</code><br />
                <span class="hint">{{ job.tenant ?? i18n.t('console.platform-wide') }}</span>
                @if (job.subscriber) {
                  <br /><span class="hint">{{
                    i18n.t('console.jobs.subscriber', { subscriber: job.subscriber })
                  }}</span>
                }
                <details>
                  <summary>{{ i18n.t('console.payload') }}</summary>
                  <pre>{{ payload(job) }}</pre>
                </details>
              </td>
              <td>
                <span class="badge" [class]="'status-' + job.state">{{
                  i18n.t('console.state.' + job.state)
                }}</span><br />
                <span class="hint">{{
                  i18n.t('console.jobs.attempts-of', { attempts: job.attempts, max: job.max_attempts })
                }}</span>
              </td>
              <td>
                {{ i18n.t('console.jobs.created', { when: when(job.created_at) }) }}
                @if (job.finished_at) {
                  <br />{{ i18n.t('console.jobs.finished', { when: when(job.finished_at) }) }}
                } @else if (job.state === 'retry' || job.state === 'queued') {
                  <br />{{ i18n.t('console.jobs.next-run', { when: when(job.run_at) }) }}
                }
              </td>
              <td>
                @if (job.last_error) {
                  <pre class="job-error">{{ job.last_error }}</pre>
                }
              </td>
              <td>
                @if (retryable(job)) {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="retry(job)"
                    [disabled]="busy() === job.job_id"
                    [attr.aria-label]="i18n.t('console.jobs.retry-named', { kind: job.kind, id: job.job_id })"
                  >
                    {{ i18n.t('console.jobs.retry') }}
                  </button>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="5">{{ i18n.t(list.loaded() ? 'console.jobs.none' : 'console.loading') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <nav class="row pager" [attr.aria-label]="i18n.t('console.pages')">
      <button type="button" class="button secondary" (click)="list.newer()" [disabled]="!list.hasNewer()">
        {{ i18n.t('console.newer') }}
      </button>
      <span>{{ i18n.t('console.page', { page: list.page() }) }}</span>
      <button type="button" class="button secondary" (click)="list.older()" [disabled]="!list.next()">
        {{ i18n.t('console.older') }}
      </button>
    </nav>`,
})
export class PlatformJobsPage {
  protected readonly i18n = inject(I18n);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  protected readonly states = JOB_STATES;
  protected readonly retryable = retryable;
  /** The filters as typed; they apply (and enter the address) on "Show". */
  protected readonly state = signal('');
  protected readonly kind = signal('');
  /** Set by the events page's link to one event's deliveries. */
  protected readonly eventId = signal<string | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly actionProblem = signal<Problem | null>(null);
  /** The job whose retry is on its way. */
  protected readonly busy = signal<string | null>(null);
  protected readonly list = new PagedList<Job>((cursor) =>
    outcome(
      listJobs({
        query: {
          limit: PAGE_SIZE,
          cursor,
          state: this.state() || undefined,
          kind: this.kind().trim() || undefined,
          event_id: this.eventId() ?? undefined,
        },
      }),
    ),
  );

  constructor() {
    this.route.queryParamMap.pipe(takeUntilDestroyed()).subscribe((params) => {
      this.state.set(params.get('state') ?? '');
      this.kind.set(params.get('kind') ?? '');
      this.eventId.set(params.get('event'));
      void this.list.first();
    });
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected payload(job: Job): string {
    return JSON.stringify(job.payload, null, 1);
  }

  protected async apply(): Promise<void> {
    this.notice.set(null);
    const queryParams = { state: this.state() || null, kind: this.kind().trim() || null, event: this.eventId() };
    const current = this.route.snapshot.queryParamMap;
    const unchanged = (['state', 'kind', 'event'] as const).every((k) => (current.get(k) ?? null) === queryParams[k]);
    // The same address again is no navigation: the list is asked directly.
    if (unchanged) await this.list.first();
    else await this.router.navigate([], { relativeTo: this.route, queryParams });
  }

  protected async clear(): Promise<void> {
    this.state.set('');
    this.kind.set('');
    this.eventId.set(null);
    await this.apply();
  }

  protected async retry(job: Job): Promise<void> {
    this.busy.set(job.job_id);
    this.notice.set(null);
    const result = await outcome(retryJob({ path: { job_id: job.job_id } }));
    this.busy.set(null);
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    this.actionProblem.set(null);
    this.notice.set(this.i18n.t('console.jobs.retried', { kind: job.kind }));
    await this.list.reload();
  }
}
