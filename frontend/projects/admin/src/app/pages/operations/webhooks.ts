import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  createWebhookEndpoint,
  fieldMessage,
  listWebhookEndpoints,
  listWebhookEventTypes,
  outcome,
  type Problem,
  type WebhookEndpoint,
  type WebhookEndpointWithSecret,
} from 'shared';
import { when } from '../../texts/when';
import { EventTypePicker } from './event-type-picker';

/**
 * The shop's webhook endpoints: where Agora posts its events. A new endpoint's signing secret is
 * shown once, right after it is registered, for the receiver to check signatures with.
 */
@Component({
  selector: 'admin-webhooks',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert, EventTypePicker],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('webhooks.title') }}</h1>
    <p>{{ i18n.t('webhooks.intro') }}</p>
    @if (created(); as endpoint) {
      <div class="notice" role="status">
        <p>{{ i18n.t('webhooks.secret-once', { url: endpoint.url }) }}</p>
        <p class="secret" data-testid="webhook-secret">{{ endpoint.secret }}</p>
        <div class="row">
          <a class="button secondary" [routerLink]="['/webhooks', endpoint.id]">{{ i18n.t('webhooks.open') }}</a>
          <button type="button" class="button secondary" (click)="created.set(null)">
            {{ i18n.t('webhooks.secret-stored') }}
          </button>
        </div>
      </div>
    }
    <agora-problem-alert [problem]="listProblem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('webhooks.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('webhooks.url') }}</th>
            <th scope="col">{{ i18n.t('webhooks.events') }}</th>
            <th scope="col">{{ i18n.t('webhooks.status') }}</th>
            <th scope="col">{{ i18n.t('webhooks.last-success') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (endpoint of endpoints(); track endpoint.id) {
            <tr>
              <td>
                <a [routerLink]="['/webhooks', endpoint.id]" class="break">{{ endpoint.url }}</a>
                @if (endpoint.description) {
                  <br /><span class="hint">{{ endpoint.description }}</span>
                }
              </td>
              <td>{{ eventList(endpoint.event_types) }}</td>
              <td>
                <span class="badge" [class.off]="endpoint.status === 'disabled'">{{
                  i18n.t('webhooks.status.' + endpoint.status)
                }}</span>
                @if (endpoint.consecutive_failures) {
                  <br /><span class="hint">{{
                    i18n.t('webhooks.failures', { count: endpoint.consecutive_failures })
                  }}</span>
                }
              </td>
              <td>{{ endpoint.last_success_at ? when(endpoint.last_success_at) : i18n.t('webhooks.never') }}</td>
            </tr>
          } @empty {
            <tr>
              <td colspan="4">{{ i18n.t('webhooks.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (next()) {
      <button type="button" class="button secondary" (click)="load(true)">{{ i18n.t('ops.more') }}</button>
    }

    <h2 id="new-endpoint-title">{{ i18n.t('webhooks.new') }}</h2>
    <agora-problem-alert [problem]="problem()" [placed]="['url', 'description', 'event_types']" />
    <form (ngSubmit)="create()" novalidate aria-labelledby="new-endpoint-title">
      <div class="field">
        <label for="endpoint-url">{{ i18n.t('webhooks.url') }}</label>
        <input
          id="endpoint-url"
          name="url"
          type="url"
          required
          [(ngModel)]="url"
          placeholder="https://"
          [attr.aria-invalid]="!!error('url')"
          [attr.aria-describedby]="error('url') ? 'endpoint-url-error endpoint-url-hint' : 'endpoint-url-hint'"
        />
        <p class="hint" id="endpoint-url-hint">{{ i18n.t('webhooks.url-hint') }}</p>
        <agora-field-error [problem]="problem()" field="url" for="endpoint-url" />
      </div>
      <div class="field">
        <label for="endpoint-description">{{ i18n.t('webhooks.description') }}</label>
        <input
          id="endpoint-description"
          name="description"
          maxlength="500"
          [(ngModel)]="description"
          [attr.aria-invalid]="!!error('description')"
          [attr.aria-describedby]="error('description') ? 'endpoint-description-error' : null"
        />
        <agora-field-error [problem]="problem()" field="description" for="endpoint-description" />
      </div>
      <admin-event-type-picker
        idPrefix="new-endpoint"
        [available]="eventTypes()"
        [(chosen)]="chosen"
        [problem]="problem()"
      />
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('webhooks.create') }}</button>
    </form>`,
})
export class WebhooksPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly endpoints = signal<WebhookEndpoint[]>([]);
  protected readonly next = signal<string | null>(null);
  protected readonly eventTypes = signal<string[]>([]);
  protected readonly created = signal<WebhookEndpointWithSecret | null>(null);
  protected readonly url = signal('');
  protected readonly description = signal('');
  protected readonly chosen = signal<string[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    const types = await outcome(listWebhookEventTypes());
    if (types.ok) this.eventTypes.set(types.data.event_types);
    await this.load(false);
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected eventList(types: readonly string[]): string {
    return types.includes('*') ? this.i18n.t('webhooks.all-events') : types.join(', ');
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(
      createWebhookEndpoint({
        body: { url: this.url().trim(), description: this.description() || null, event_types: this.chosen() },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.created.set(result.data);
    this.url.set('');
    this.description.set('');
    this.chosen.set([]);
    await this.load(false);
  }

  protected async load(more: boolean): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    const result = await outcome(listWebhookEndpoints({ query: { limit: 50, cursor } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.endpoints.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
  }
}
