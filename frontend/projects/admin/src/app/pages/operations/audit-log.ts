import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { I18n, ProblemAlert, listAuditLog, outcome, type Page_AuditEntry_, type Problem } from 'shared';
import { when } from '../../texts/when';

type Entry = Page_AuditEntry_['items'][number];
const PAGE_SIZE = 25;

/**
 * The shop's security record, newest first: sign-ins, failures, role and key changes, exports
 * and erasures. Filters are the API's; pages go back through the cursors already seen.
 */
@Component({
  selector: 'admin-audit-log',
  imports: [FormsModule, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('audit.title') }}</h1>
    <p>{{ i18n.t('audit.intro') }}</p>
    <form class="filters" (ngSubmit)="search()" [attr.aria-label]="i18n.t('ops.filters')">
      <div class="field">
        <label for="audit-action">{{ i18n.t('audit.action') }}</label>
        <input id="audit-action" name="action" [(ngModel)]="action" aria-describedby="audit-action-hint" />
        <p class="hint" id="audit-action-hint">{{ i18n.t('audit.action-hint') }}</p>
      </div>
      <div class="field">
        <label for="audit-actor">{{ i18n.t('audit.actor') }}</label>
        <input id="audit-actor" name="actor" [(ngModel)]="actor" aria-describedby="audit-actor-hint" />
        <p class="hint" id="audit-actor-hint">{{ i18n.t('audit.actor-hint') }}</p>
      </div>
      <div class="field">
        <label for="audit-subject">{{ i18n.t('audit.subject') }}</label>
        <input id="audit-subject" name="subject" [(ngModel)]="subject" aria-describedby="audit-subject-hint" />
        <p class="hint" id="audit-subject-hint">{{ i18n.t('audit.subject-hint') }}</p>
      </div>
      <div class="field">
        <label for="audit-since">{{ i18n.t('audit.since') }}</label>
        <input id="audit-since" name="since" type="datetime-local" [(ngModel)]="since" />
      </div>
      <div class="field">
        <label for="audit-until">{{ i18n.t('audit.until') }}</label>
        <input id="audit-until" name="until" type="datetime-local" [(ngModel)]="until" />
      </div>
      <div class="row">
        <button class="button" type="submit">{{ i18n.t('ops.apply-filters') }}</button>
        <button class="button secondary" type="button" (click)="clear()">{{ i18n.t('ops.clear-filters') }}</button>
      </div>
    </form>
    <agora-problem-alert [problem]="problem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('audit.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('webhooks.when') }}</th>
            <th scope="col">{{ i18n.t('audit.action') }}</th>
            <th scope="col">{{ i18n.t('audit.actor') }}</th>
            <th scope="col">{{ i18n.t('audit.subject') }}</th>
            <th scope="col">{{ i18n.t('audit.details') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (entry of entries(); track entry.id) {
            <tr>
              <td>{{ when(entry.occurred_at) }}</td>
              <td>
                <button
                  type="button"
                  class="link-button"
                  (click)="filterBy('action', entry.action)"
                  [attr.aria-label]="i18n.t('audit.only', { value: entry.action })"
                >
                  <code>{{ entry.action }}</code>
                </button>
              </td>
              <td>
                <button
                  type="button"
                  class="link-button"
                  (click)="filterBy('actor', entry.actor)"
                  [attr.aria-label]="i18n.t('audit.only', { value: entry.actor })"
                >
                  {{ entry.actor }}
                </button>
                @if (entry.ip) {
                  <br /><span class="hint">{{ entry.ip }}</span>
                }
              </td>
              <td>{{ entry.subject ?? '' }}</td>
              <td>
                @if (hasDetails(entry)) {
                  <pre class="details">{{ details(entry) }}</pre>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="5">{{ i18n.t('audit.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <nav class="row pager" [attr.aria-label]="i18n.t('ops.pages')">
      <button type="button" class="button secondary" (click)="previous()" [disabled]="!cursors().length">
        {{ i18n.t('ops.newer') }}
      </button>
      <span>{{ i18n.t('ops.page', { page: cursors().length + 1 }) }}</span>
      <button type="button" class="button secondary" (click)="older()" [disabled]="!next()">
        {{ i18n.t('ops.older') }}
      </button>
    </nav>`,
})
export class AuditLogPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly action = signal('');
  protected readonly actor = signal('');
  protected readonly subject = signal('');
  protected readonly since = signal('');
  protected readonly until = signal('');
  protected readonly entries = signal<Entry[]>([]);
  /** The cursors of the pages before this one (empty on the first page). */
  protected readonly cursors = signal<(string | undefined)[]>([]);
  private current: string | undefined = undefined;
  private requests = 0;
  protected readonly next = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);

  async ngOnInit(): Promise<void> {
    await this.load(undefined);
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected hasDetails(entry: Entry): boolean {
    return Object.keys(entry.details ?? {}).length > 0;
  }

  protected details(entry: Entry): string {
    return JSON.stringify(entry.details, null, 1);
  }

  protected async search(): Promise<void> {
    this.cursors.set([]);
    await this.load(undefined);
  }

  protected async clear(): Promise<void> {
    for (const field of [this.action, this.actor, this.subject, this.since, this.until]) field.set('');
    await this.search();
  }

  protected async filterBy(field: 'action' | 'actor', value: string): Promise<void> {
    (field === 'action' ? this.action : this.actor).set(value);
    await this.search();
  }

  protected async older(): Promise<void> {
    const next = this.next();
    if (!next) return;
    this.cursors.update((seen) => [...seen, this.current]);
    await this.load(next);
  }

  protected async previous(): Promise<void> {
    const seen = this.cursors();
    if (!seen.length) return;
    this.cursors.set(seen.slice(0, -1));
    await this.load(seen[seen.length - 1]);
  }

  private async load(cursor: string | undefined): Promise<void> {
    // Answers can arrive out of order (a filter applied while the first page loads): only the
    // latest request's answer is shown.
    const request = ++this.requests;
    const result = await outcome(
      listAuditLog({
        query: {
          limit: PAGE_SIZE,
          cursor,
          action: this.action().trim() || undefined,
          actor: this.actor().trim() || undefined,
          subject: this.subject().trim() || undefined,
          since: instant(this.since()),
          until: instant(this.until()),
        },
      }),
    );
    if (request !== this.requests) return;
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.current = cursor;
    this.entries.set(result.data.items);
    this.next.set(result.data.next_cursor ?? null);
  }
}

/** A `datetime-local` value (the member's local time) as the RFC 3339 instant the API wants. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
