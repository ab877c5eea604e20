import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { I18n, ProblemAlert, listEvents, outcome, redeliverEvent, type Page_EventSummary_, type Problem } from 'shared';
import { when } from '../texts/when';
import { JOB_STATES } from './jobs';
import { PagedList } from './paged-list';

export type PublishedEvent = Page_EventSummary_['items'][number];

/**
 * Whether delivering again should go to every subscriber: only when no delivery failed. With a
 * failed one, the API retries just those, so subscribers that succeeded are not bothered again.
 */
export function redeliverToAll(event: PublishedEvent): boolean {
  return !event.deliveries.some((d) => d.state === 'retry' || d.state === 'dead');
}

const PAGE_SIZE = 25;

/**
 * Published events across every shop, newest first, with each subscriber's delivery; filtered by
 * shop, name or a delivery's state (kept in the address like the jobs page's filters).
 */
@Component({
  selector: 'admin-platform-events',
  imports: [FormsModule, ProblemAlert, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('console.events.title') }}</h1>
    <p>{{ i18n.t('console.events.intro') }}</p>
    <form class="filters" (ngSubmit)="apply()" [attr.aria-label]="i18n.t('console.filters')">
      <div class="field">
        <label for="event-shop">{{ i18n.t('console.shop') }}</label>
        <input id="event-shop" name="shop" [(ngModel)]="shop" aria-describedby="event-shop-hint" />
        <p class="hint" id="event-shop-hint">{{ i18n.t('console.events.shop-hint') }}</p>
      </div>
      <div class="field">
        <label for="event-name">{{ i18n.t('console.events.name') }}</label>
        <input id="event-name" name="name" [(ngModel)]="name" aria-describedby="event-name-hint" />
        <p class="hint" id="event-name-hint">{{ i18n.t('console.events.name-hint') }}</p>
      </div>
      <div class="field">
        <label for="event-delivery">{{ i18n.t('console.events.delivery-state') }}</label>
        <select id="event-delivery" name="delivery" [(ngModel)]="delivery">
          <option value="">{{ i18n.t('console.any') }}</option>
          @for (s of states; track s) {
            <option [value]="s">{{ i18n.t('console.state.' + s) }}</option>
          }
        </select>
      </div>
      <div class="row">
        <button class="button" type="submit">{{ i18n.t('console.show') }}</button>
        <button class="button secondary" type="button" (click)="clear()">{{ i18n.t('console.clear') }}</button>
        <button class="button secondary" type="button" (click)="list.reload()">{{ i18n.t('console.refresh') }}</button>
      </div>
    </form>
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    <agora-problem-alert [problem]="actionProblem()" />
    <agora-problem-alert [problem]="list.problem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('console.events.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('console.events.event') }}</th>
            <th scope="col">{{ i18n.t('console.when') }}</th>
            <th scope="col">{{ i18n.t('console.events.deliveries') }}</th>
            <th scope="col">{{ i18n.t('console.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (event of list.items(); track event.event_id) {
            <tr>
              <td>
                <code>{{ event.name }}</code><br />
                <span class="hint">{{ event.tenant ?? i18n.t('console.platform-wide') }}</span><br />
                <span class="hint break">{{ i18n.t('console.events.about', { id: event.aggregate_id }) }}</span>
                <details>
                  <summary>{{ i18n.t('console.payload') }}</summary>
                  <pre>{{ payload(event) }}</pre>
                </details>
              </td>
              <td>{{ when(event.created_at) }}</td>
              <td>
                <ul class="plain-list">
                  @for (d of event.deliveries; track d.subscriber) {
                    <li>
                      <span class="badge" [class]="'status-' + d.state">{{ i18n.t('console.state.' + d.state) }}</span>
                      {{ d.subscriber }}
                      <span class="hint">{{ i18n.t('console.events.attempts', { attempts: d.attempts }) }}</span>
                      @if (d.last_error) {
                        <pre class="job-error">{{ d.last_error }}</pre>
                      }
                    </li>
                  } @empty {
                    <li class="hint">{{ i18n.t('console.events.no-subscribers') }}</li>
                  }
                </ul>
              </td>
              <td>
                <div class="row">
                  <button
                    type="button"
                    class="button secondary"
                    (click)="redeliver(event)"
                    [disabled]="busy() === event.event_id"
                    [attr.aria-label]="
                      i18n.t('console.events.redeliver-named', { name: event.name, when: when(event.created_at) })
                    "
                  >
                    {{ i18n.t('console.events.redeliver') }}
                  </button>
                  <a
                    routerLink="/platform/jobs"
                    [queryParams]="{ event: event.event_id }"
                    [attr.aria-label]="
                      i18n.t('console.events.jobs-named', { name: event.name, when: when(event.created_at) })
                    "
                    >{{ i18n.t('console.events.jobs') }}</a
                  >
                </div>
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="4">{{ i18n.t(list.loaded() ? 'console.events.none' : 'console.loading') }}</td>
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
export class PlatformEventsPage {
  protected readonly i18n = inject(I18n);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  protected readonly states = JOB_STATES;
  protected readonly shop = signal('');
  protected readonly name = signal('');
  protected readonly delivery = signal('');
  protected readonly notice = signal<string | null>(null);
  protected readonly actionProblem = signal<Problem | null>(null);
  protected readonly busy = signal<string | null>(null);
  protected readonly list = new PagedList<PublishedEvent>((cursor) =>
    outcome(
      listEvents({
        query: {
          limit: PAGE_SIZE,
          cursor,
          tenant: this.shop().trim() || undefined,
          name: this.name().trim() || undefined,
          delivery_state: this.delivery() || undefined,
        },
      }),
    ),
  );

  constructor() {
    this.route.queryParamMap.pipe(takeUntilDestroyed()).subscribe((params) => {
      this.shop.set(params.get('shop') ?? '');
      this.name.set(params.get('name') ?? '');
      this.delivery.set(params.get('delivery') ?? '');
      void this.list.first();
    });
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected payload(event: PublishedEvent): string {
    return JSON.stringify(event.payload, null, 1);
  }

  protected async apply(): Promise<void> {
    this.notice.set(null);
    const queryParams = {
      shop: this.shop().trim() || null,
      name: this.name().trim() || null,
      delivery: this.delivery() || null,
    };
    const current = this.route.snapshot.queryParamMap;
    const unchanged = (['shop', 'name', 'delivery'] as const).every((k) => (current.get(k) ?? null) === queryParams[k]);
    // The same address again is no navigation: the list is asked directly.
    if (unchanged) await this.list.first();
    else await this.router.navigate([], { relativeTo: this.route, queryParams });
  }

  protected async clear(): Promise<void> {
    this.shop.set('');
    this.name.set('');
    this.delivery.set('');
    await this.apply();
  }

  protected async redeliver(event: PublishedEvent): Promise<void> {
    this.busy.set(event.event_id);
    this.notice.set(null);
    const result = await outcome(
      redeliverEvent({ path: { event_id: event.event_id }, query: { all: redeliverToAll(event) } }),
    );
    this.busy.set(null);
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    this.actionProblem.set(null);
    this.notice.set(this.i18n.t('console.events.redelivered', { name: event.name, count: result.data.queued }));
    await this.list.reload();
  }
}
