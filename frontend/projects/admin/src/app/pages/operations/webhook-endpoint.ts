import { ChangeDetectionStrategy, Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  deleteWebhookEndpoint,
  disableWebhookEndpoint,
  enableWebhookEndpoint,
  fieldMessage,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEventTypes,
  outcome,
  pingWebhookEndpoint,
  redeliverWebhookEvent,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type Page_WebhookDelivery_,
  type Problem,
  type WebhookEndpoint,
} from 'shared';
import { when } from '../../texts/when';
import { EventTypePicker } from './event-type-picker';

type Delivery = Page_WebhookDelivery_['items'][number];

/**
 * One endpoint: its settings (edited under If-Match, so two people cannot overwrite each other),
 * on/off, a test ping, a new signing secret, and the log of what was sent and what came back.
 */
@Component({
  selector: 'admin-webhook-endpoint',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert, EventTypePicker],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<p>
      <a routerLink="/webhooks">← {{ i18n.t('webhooks.title') }}</a>
    </p>
    <h1>{{ i18n.t('webhooks.endpoint') }}</h1>
    <agora-problem-alert [problem]="actionProblem()" (reload)="reload()" />
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    @if (secret(); as value) {
      <div class="notice" role="status">
        <p>{{ i18n.t('webhooks.rotated-once') }}</p>
        <p class="secret" data-testid="webhook-secret">{{ value }}</p>
        <button type="button" class="button secondary" (click)="secret.set(null)">
          {{ i18n.t('webhooks.secret-stored') }}
        </button>
      </div>
    }
    @if (endpoint(); as e) {
      <dl class="facts">
        <dt>{{ i18n.t('webhooks.url') }}</dt>
        <dd class="break">{{ e.url }}</dd>
        <dt>{{ i18n.t('webhooks.status') }}</dt>
        <dd>
          <span class="badge" [class.off]="e.status === 'disabled'">{{ i18n.t('webhooks.status.' + e.status) }}</span>
          @if (e.disabled_reason) {
            {{ e.disabled_reason }}
          }
        </dd>
        <dt>{{ i18n.t('webhooks.last-success') }}</dt>
        <dd>{{ e.last_success_at ? when(e.last_success_at) : i18n.t('webhooks.never') }}</dd>
        <dt>{{ i18n.t('webhooks.last-failure') }}</dt>
        <dd>
          {{ e.last_failure_at ? when(e.last_failure_at) : i18n.t('webhooks.never') }}
          @if (e.consecutive_failures) {
            ({{ i18n.t('webhooks.failures', { count: e.consecutive_failures }) }})
          }
        </dd>
        @if (e.previous_secret_expires_at) {
          <dt>{{ i18n.t('webhooks.previous-secret') }}</dt>
          <dd>{{ i18n.t('webhooks.previous-secret-until', { when: when(e.previous_secret_expires_at) }) }}</dd>
        }
      </dl>
      <div class="row">
        <button type="button" class="button" (click)="ping()" [disabled]="busy()">{{ i18n.t('webhooks.ping') }}</button>
        @if (e.status === 'enabled') {
          <button type="button" class="button secondary" (click)="setEnabled(false)" [disabled]="busy()">
            {{ i18n.t('webhooks.disable') }}
          </button>
        } @else {
          <button type="button" class="button secondary" (click)="setEnabled(true)" [disabled]="busy()">
            {{ i18n.t('webhooks.enable') }}
          </button>
        }
      </div>

      <h2 id="deliveries-title">{{ i18n.t('webhooks.deliveries') }}</h2>
      <div class="row">
        <button type="button" class="button secondary" (click)="refresh()">
          {{ i18n.t('ops.refresh') }}
        </button>
      </div>
      <div class="table-scroll">
        <table aria-labelledby="deliveries-title">
          <thead>
            <tr>
              <th scope="col">{{ i18n.t('webhooks.when') }}</th>
              <th scope="col">{{ i18n.t('webhooks.event') }}</th>
              <th scope="col">{{ i18n.t('webhooks.attempt') }}</th>
              <th scope="col">{{ i18n.t('webhooks.response') }}</th>
              <th scope="col">{{ i18n.t('ops.actions') }}</th>
            </tr>
          </thead>
          <tbody>
            @for (d of deliveries(); track d.id) {
              <tr>
                <td>{{ when(d.created_at) }}</td>
                <td>
                  <code>{{ d.event_type }}</code>
                  <br /><span class="hint">{{ i18n.t('webhooks.trigger.' + d.trigger) }}</span>
                </td>
                <td>{{ d.attempt }}</td>
                <td>
                  <span class="badge" [class.off]="!d.succeeded">{{
                    d.succeeded ? i18n.t('webhooks.delivered') : i18n.t('webhooks.failed')
                  }}</span>
                  {{ d.response_status ?? '' }} · {{ d.duration_ms }} ms
                  @if (d.error) {
                    <br /><span class="hint">{{ d.error }}</span>
                  }
                  @if (d.response_body) {
                    <details>
                      <summary>{{ i18n.t('webhooks.response-body') }}</summary>
                      <pre>{{ d.response_body }}</pre>
                    </details>
                  }
                  <details>
                    <summary>{{ i18n.t('webhooks.request-body') }}</summary>
                    <pre>{{ d.request_body }}</pre>
                  </details>
                </td>
                <td>
                  <button
                    type="button"
                    class="button secondary"
                    (click)="redeliver(d)"
                    [attr.aria-label]="
                      i18n.t('webhooks.redeliver-event', { event: d.event_type, when: when(d.created_at) })
                    "
                  >
                    {{ i18n.t('webhooks.redeliver') }}
                  </button>
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="5">{{ i18n.t('webhooks.no-deliveries') }}</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (nextDeliveries()) {
        <button type="button" class="button secondary" (click)="loadDeliveries(true)">{{ i18n.t('ops.more') }}</button>
      }

      <h2 id="edit-endpoint-title">{{ i18n.t('webhooks.edit') }}</h2>
      <agora-problem-alert [problem]="problem()" [placed]="['url', 'description', 'event_types']" (reload)="reload()" />
      <form (ngSubmit)="save()" novalidate aria-labelledby="edit-endpoint-title">
        <div class="field">
          <label for="edit-url">{{ i18n.t('webhooks.url') }}</label>
          <input
            id="edit-url"
            name="url"
            type="url"
            required
            [(ngModel)]="url"
            [attr.aria-invalid]="!!error('url')"
            [attr.aria-describedby]="error('url') ? 'edit-url-error' : null"
          />
          <agora-field-error [problem]="problem()" field="url" for="edit-url" />
        </div>
        <div class="field">
          <label for="edit-description">{{ i18n.t('webhooks.description') }}</label>
          <input
            id="edit-description"
            name="description"
            maxlength="500"
            [(ngModel)]="description"
            [attr.aria-invalid]="!!error('description')"
            [attr.aria-describedby]="error('description') ? 'edit-description-error' : null"
          />
          <agora-field-error [problem]="problem()" field="description" for="edit-description" />
        </div>
        <admin-event-type-picker idPrefix="edit" [available]="eventTypes()" [(chosen)]="chosen" [problem]="problem()" />
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
      </form>

      <h2>{{ i18n.t('webhooks.secret') }}</h2>
      <p>{{ i18n.t('webhooks.rotate-intro') }}</p>
      <div class="field">
        <label for="grace-hours">{{ i18n.t('webhooks.grace') }}</label>
        <input id="grace-hours" name="grace" type="number" min="0" max="168" [(ngModel)]="graceHours" />
      </div>
      <button type="button" class="button secondary" (click)="rotate()" [disabled]="busy()">
        {{ i18n.t('webhooks.rotate') }}
      </button>

      <h2>{{ i18n.t('webhooks.delete') }}</h2>
      @if (confirmingDelete()) {
        <p>{{ i18n.t('webhooks.delete-confirm') }}</p>
        <div class="row">
          <button type="button" class="button danger" (click)="remove()">{{ i18n.t('webhooks.delete') }}</button>
          <button type="button" class="button secondary" (click)="confirmingDelete.set(false)">
            {{ i18n.t('common.cancel') }}
          </button>
        </div>
      } @else {
        <button type="button" class="button danger" (click)="confirmingDelete.set(true)">
          {{ i18n.t('webhooks.delete') }}
        </button>
      }
    }`,
})
export class WebhookEndpointPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly router = inject(Router);
  /** The endpoint's id, from the route. */
  readonly id = input.required<string>();
  protected readonly endpoint = signal<WebhookEndpoint | null>(null);
  protected readonly eventTypes = signal<string[]>([]);
  protected readonly deliveries = signal<Delivery[]>([]);
  protected readonly nextDeliveries = signal<string | null>(null);
  protected readonly url = signal('');
  protected readonly description = signal('');
  protected readonly chosen = signal<string[]>([]);
  protected readonly graceHours = signal(24);
  protected readonly secret = signal<string | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly actionProblem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly confirmingDelete = signal(false);

  async ngOnInit(): Promise<void> {
    const types = await outcome(listWebhookEventTypes());
    if (types.ok) this.eventTypes.set(types.data.event_types);
    await this.reload();
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  /** Reads the endpoint afresh (after a 412 too): the form shows what is stored now. */
  protected async reload(): Promise<void> {
    const result = await outcome(getWebhookEndpoint({ path: { endpoint_id: this.id() } }));
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.actionProblem.set(null);
    this.show(result.data);
    await this.loadDeliveries(false);
  }

  protected async save(): Promise<void> {
    const current = this.endpoint();
    if (!current) return;
    this.busy.set(true);
    const result = await outcome(
      updateWebhookEndpoint({
        path: { endpoint_id: current.id },
        headers: { 'If-Match': `"${current.version}"` },
        body: { url: this.url().trim(), description: this.description(), event_types: this.chosen() },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.show(result.data);
    this.notice.set(this.i18n.t('common.saved'));
  }

  protected async setEnabled(enabled: boolean): Promise<void> {
    const current = this.endpoint();
    if (!current) return;
    const options = { path: { endpoint_id: current.id }, headers: { 'If-Match': `"${current.version}"` } };
    await this.act(
      enabled ? enableWebhookEndpoint(options) : disableWebhookEndpoint(options),
      (data) => this.show(data),
      enabled ? 'webhooks.enabled' : 'webhooks.disabled',
    );
  }

  protected async ping(): Promise<void> {
    await this.act(pingWebhookEndpoint({ path: { endpoint_id: this.id() } }), () => undefined, 'webhooks.pinged');
    await this.watchDeliveries();
  }

  protected async redeliver(delivery: Delivery): Promise<void> {
    await this.act(
      redeliverWebhookEvent({ path: { endpoint_id: this.id(), event_id: delivery.event_id } }),
      () => undefined,
      'webhooks.redelivered',
    );
    await this.watchDeliveries();
  }

  protected async rotate(): Promise<void> {
    const current = this.endpoint();
    if (!current) return;
    const hours = Math.min(168, Math.max(0, Math.round(Number(this.graceHours()) || 0)));
    await this.act(
      rotateWebhookSecret({
        path: { endpoint_id: current.id },
        headers: { 'If-Match': `"${current.version}"` },
        query: { previous_secret_valid_for_hours: hours },
      }),
      (data) => {
        this.show(data);
        this.secret.set(data.secret);
      },
      null,
    );
  }

  protected async remove(): Promise<void> {
    const current = this.endpoint();
    if (!current) return;
    const result = await outcome(
      deleteWebhookEndpoint({ path: { endpoint_id: current.id }, headers: { 'If-Match': `"${current.version}"` } }),
    );
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    await this.router.navigateByUrl('/webhooks');
  }

  protected async refresh(): Promise<void> {
    await this.loadDeliveries(false);
    await this.refreshStatus();
  }

  protected async loadDeliveries(more: boolean): Promise<void> {
    const cursor = more ? (this.nextDeliveries() ?? undefined) : undefined;
    const result = await outcome(
      listWebhookDeliveries({ path: { endpoint_id: this.id() }, query: { limit: 20, cursor } }),
    );
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    this.deliveries.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.nextDeliveries.set(result.data.next_cursor ?? null);
  }

  /**
   * A ping or redelivery is queued, then made by a worker: the log is read again a few times
   * so its attempt shows up without the member reloading.
   */
  private async watchDeliveries(): Promise<void> {
    const before = this.deliveries()[0]?.id;
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await this.loadDeliveries(false);
      if (this.deliveries()[0]?.id !== before) break;
    }
    await this.refreshStatus();
  }

  /**
   * The endpoint's last success or failure, leaving the edit form as typed. Only while nobody
   * changed the endpoint: otherwise the form's version would silently move past their change.
   */
  private async refreshStatus(): Promise<void> {
    const result = await outcome(getWebhookEndpoint({ path: { endpoint_id: this.id() } }));
    if (result.ok && result.data.version === this.endpoint()?.version) this.endpoint.set(result.data);
  }

  private async act<T>(
    call: Promise<{ data?: T; error?: unknown; response?: Response }>,
    done: (data: T) => void,
    noticeKey: string | null,
  ): Promise<void> {
    this.busy.set(true);
    this.notice.set(null);
    const result = await outcome(call);
    this.busy.set(false);
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    this.actionProblem.set(null);
    done(result.data);
    if (noticeKey) this.notice.set(this.i18n.t(noticeKey));
  }

  private show(endpoint: WebhookEndpoint): void {
    this.endpoint.set(endpoint);
    this.url.set(endpoint.url);
    this.description.set(endpoint.description);
    this.chosen.set([...endpoint.event_types]);
  }
}
