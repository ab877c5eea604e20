import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  I18n,
  ProblemAlert,
  getEmail,
  listEmails,
  outcome,
  resendEmail,
  type Message,
  type Page_MessageSummary_,
  type Problem,
} from 'shared';
import { when } from '../../texts/when';
import { StaffSession } from '../../staff-session';
import { EmailTabs } from './email-tabs';

type Summary = Page_MessageSummary_['items'][number];
const STATUSES = ['queued', 'sent', 'stored', 'failed', 'suppressed'] as const;

/** What the shop sent (or, without a mail server, kept in its outbox): filter, open, send again. */
@Component({
  selector: 'admin-email-log',
  imports: [FormsModule, RouterLink, ProblemAlert, EmailTabs],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('emails.title') }}</h1>
    <admin-email-tabs />
    <form class="filters" (ngSubmit)="load(false)" [attr.aria-label]="i18n.t('ops.filters')">
      <div class="field">
        <label for="log-recipient">{{ i18n.t('emails.recipient') }}</label>
        <input id="log-recipient" name="recipient" type="email" [(ngModel)]="recipient" />
      </div>
      <div class="field">
        <label for="log-status">{{ i18n.t('emails.status') }}</label>
        <select id="log-status" name="status" [(ngModel)]="status">
          <option value="">{{ i18n.t('ops.any') }}</option>
          @for (s of statuses; track s) {
            <option [value]="s">{{ i18n.t('emails.status.' + s) }}</option>
          }
        </select>
      </div>
      <button class="button secondary" type="submit">{{ i18n.t('ops.apply-filters') }}</button>
    </form>
    <agora-problem-alert [problem]="problem()" />
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('emails.log')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('webhooks.when') }}</th>
            <th scope="col">{{ i18n.t('emails.recipient') }}</th>
            <th scope="col">{{ i18n.t('emails.subject') }}</th>
            <th scope="col">{{ i18n.t('emails.status') }}</th>
            <th scope="col">{{ i18n.t('ops.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (m of messages(); track m.id) {
            <tr>
              <td>{{ when(m.created_at) }}</td>
              <td class="break">{{ m.to }}</td>
              <td>
                {{ m.subject }}<br /><span class="hint"
                  ><code>{{ m.template }}</code> · {{ m.locale }}</span
                >
              </td>
              <td>
                <span class="badge" [class.off]="m.status === 'failed' || m.status === 'suppressed'">{{
                  i18n.t('emails.status.' + m.status)
                }}</span>
                @if (m.last_error) {
                  <br /><span class="hint">{{ m.last_error }}</span>
                }
              </td>
              <td>
                <div class="row">
                  <button
                    type="button"
                    class="button secondary"
                    (click)="open(m)"
                    [attr.aria-label]="i18n.t('emails.open-message', { subject: m.subject, to: m.to })"
                  >
                    {{ i18n.t('emails.open') }}
                  </button>
                  @if (m.status === 'failed') {
                    <button
                      type="button"
                      class="button secondary"
                      (click)="resend(m.id)"
                      [attr.aria-label]="i18n.t('emails.resend-message', { subject: m.subject, to: m.to })"
                    >
                      {{ i18n.t('emails.resend') }}
                    </button>
                  }
                </div>
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="5">{{ i18n.t('emails.no-messages') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (next()) {
      <button type="button" class="button secondary" (click)="load(true)">{{ i18n.t('ops.more') }}</button>
    }
    @if (opened(); as m) {
      <section class="card" [attr.aria-labelledby]="'message-title'" data-testid="email-message">
        <h2 id="message-title">{{ m.subject }}</h2>
        <dl class="facts">
          <dt>{{ i18n.t('emails.from') }}</dt>
          <dd>{{ m.from }}</dd>
          <dt>{{ i18n.t('emails.recipient') }}</dt>
          <dd>{{ m.to }}</dd>
          <dt>{{ i18n.t('emails.status') }}</dt>
          <dd>{{ i18n.t('emails.status.' + m.status) }} · {{ i18n.t('emails.attempts', { count: m.attempts }) }}</dd>
          @if (m.account) {
            <dt>{{ i18n.t('emails.account') }}</dt>
            <dd class="break">
              {{ m.account }}
              @if (customerId(m.account); as id) {
                @if (session.can('customers.read')) {
                  <a [routerLink]="['/customers', id]">{{ i18n.t('emails.customer-data') }}</a>
                }
              }
            </dd>
          }
          @if (m.sent_at) {
            <dt>{{ i18n.t('emails.sent-at') }}</dt>
            <dd>{{ when(m.sent_at) }}</dd>
          }
          @if (m.last_error) {
            <dt>{{ i18n.t('emails.last-error') }}</dt>
            <dd>{{ m.last_error }}</dd>
          }
        </dl>
        @if (m.body_html) {
          <h3>{{ i18n.t('emails.body-html') }}</h3>
          <div class="mail-html" [innerHTML]="m.body_html"></div>
        }
        <h3>{{ i18n.t('emails.body-text') }}</h3>
        <pre>{{ m.body_text }}</pre>
        <div class="row">
          @if (m.status === 'failed') {
            <button type="button" class="button" (click)="resend(m.id)">{{ i18n.t('emails.resend') }}</button>
          }
          <button type="button" class="button secondary" (click)="opened.set(null)">{{ i18n.t('ops.close') }}</button>
        </div>
      </section>
    }`,
})
export class EmailLogPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(StaffSession);
  protected readonly statuses = STATUSES;
  protected readonly recipient = signal('');
  protected readonly status = signal('');
  protected readonly messages = signal<Summary[]>([]);
  protected readonly next = signal<string | null>(null);
  private requests = 0;
  protected readonly opened = signal<Message | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);

  async ngOnInit(): Promise<void> {
    await this.load(false);
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  /** The customer's id when an email went to a customer account (`customer:<uuid>`). */
  protected customerId(account: string): string | null {
    return account.startsWith('customer:') ? account.slice('customer:'.length) : null;
  }

  protected async load(more: boolean): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    // Only the latest request's answer is shown (a filter applied while the first page loads).
    const request = ++this.requests;
    const result = await outcome(
      listEmails({
        query: {
          limit: 25,
          cursor,
          recipient: this.recipient().trim() || undefined,
          status: this.status() || undefined,
        },
      }),
    );
    if (request !== this.requests) return;
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.messages.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
  }

  protected async open(summary: Summary): Promise<void> {
    const result = await outcome(getEmail({ path: { id: summary.id } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.opened.set(result.data);
  }

  protected async resend(id: string): Promise<void> {
    this.notice.set(null);
    const result = await outcome(resendEmail({ path: { id } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.notice.set(this.i18n.t('emails.resent', { to: result.data.to }));
    if (this.opened()?.id === id) this.opened.set(result.data);
    await this.load(false);
  }
}
