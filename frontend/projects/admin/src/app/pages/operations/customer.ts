import { ChangeDetectionStrategy, Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  I18n,
  ProblemAlert,
  eraseCustomer,
  exportCustomerData,
  getCustomer,
  outcome,
  type CustomerDetail,
  type Problem,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { when } from '../../texts/when';

/**
 * One customer: profile, address book, when they registered and last signed in, and their data
 * requests (GDPR): a copy of everything the shop holds about them, or its erasure.
 */
@Component({
  selector: 'admin-customer',
  imports: [FormsModule, RouterLink, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<p>
      <a routerLink="/customers">← {{ i18n.t('customers.title') }}</a>
    </p>
    <agora-problem-alert [problem]="problem()" [placed]="[]" />
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    @if (customer(); as c) {
      <h1>{{ c.erased ? i18n.t('customers.erased-customer') : c.name || c.email }}</h1>
      <dl class="facts" data-testid="customer-profile">
        <dt>{{ i18n.t('ops.email') }}</dt>
        <dd class="break">{{ c.email ?? '—' }}</dd>
        <dt>{{ i18n.t('customers.verified') }}</dt>
        <dd>{{ c.email_verified_at ? when(c.email_verified_at) : i18n.t('customers.no') }}</dd>
        @if (c.phone) {
          <dt>{{ i18n.t('customers.phone') }}</dt>
          <dd>{{ c.phone }}</dd>
        }
        @if (c.locale) {
          <dt>{{ i18n.t('customers.language') }}</dt>
          <dd>{{ c.locale }}</dd>
        }
        <dt>{{ i18n.t('customers.registered') }}</dt>
        <dd>{{ when(c.created_at) }}</dd>
        <dt>{{ i18n.t('customers.last-sign-in') }}</dt>
        <dd>{{ c.last_sign_in_at ? when(c.last_sign_in_at) : '—' }}</dd>
        @if (c.erased_at) {
          <dt>{{ i18n.t('customers.erased') }}</dt>
          <dd>{{ when(c.erased_at) }}</dd>
        }
        <dt>{{ i18n.t('customers.id') }}</dt>
        <dd class="break">
          <code>{{ c.id }}</code>
        </dd>
      </dl>
      @if (!c.erased) {
        <h2>{{ i18n.t('privacy.addresses') }}</h2>
        @for (a of c.addresses; track a.id) {
          <address class="card">
            {{ a.name }}<br />
            @if (a.company) {
              {{ a.company }}<br />
            }
            {{ a.line1 }}<br />
            @if (a.line2) {
              {{ a.line2 }}<br />
            }
            {{ a.postal_code }} {{ a.city }}<br />
            {{ a.country }}
          </address>
        } @empty {
          <p>{{ i18n.t('customers.no-addresses') }}</p>
        }
        @if (session.can('customers.privacy')) {
          <section aria-labelledby="requests-title">
            <h2 id="requests-title">{{ i18n.t('privacy.title') }}</h2>
            <div class="row">
              <button type="button" class="button secondary" (click)="export()" [disabled]="busy()">
                {{ i18n.t('privacy.export') }}
              </button>
              @if (downloadUrl()) {
                <a class="button" [href]="downloadUrl()" [attr.download]="'customer-' + c.id + '.json'">{{
                  i18n.t('privacy.download')
                }}</a>
              }
            </div>
            @if (categories(); as held) {
              <p data-testid="customer-export">{{ i18n.t('privacy.categories') }}: {{ held }}</p>
            }
            <h3>{{ i18n.t('privacy.erase-title') }}</h3>
            <p>{{ i18n.t('privacy.erase-intro') }}</p>
            <p>
              <label>
                <input type="checkbox" name="confirm" [(ngModel)]="confirmErase" />
                {{ i18n.t('privacy.erase-confirm', { email: c.email ?? '' }) }}
              </label>
            </p>
            <button type="button" class="button danger" (click)="erase()" [disabled]="!confirmErase() || busy()">
              {{ i18n.t('privacy.erase') }}
            </button>
          </section>
        }
      }
    }`,
})
export class CustomerPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(StaffSession);
  readonly id = input.required<string>();
  protected readonly customer = signal<CustomerDetail | null>(null);
  protected readonly downloadUrl = signal('');
  protected readonly categories = signal<string | null>(null);
  protected readonly confirmErase = signal(false);
  protected readonly notice = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected async load(): Promise<void> {
    const result = await outcome(getCustomer({ path: { id: this.id() } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.customer.set(result.data);
  }

  /** A copy of everything held about the customer, offered as a JSON download. */
  protected async export(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(exportCustomerData({ path: { id: this.id() } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    if (this.downloadUrl()) URL.revokeObjectURL(this.downloadUrl());
    const blob = new Blob([JSON.stringify(result.data, null, 2)], { type: 'application/json' });
    this.downloadUrl.set(URL.createObjectURL(blob));
    this.categories.set(result.data.categories.join(', '));
  }

  protected async erase(): Promise<void> {
    if (!this.confirmErase()) return;
    this.busy.set(true);
    const result = await outcome(eraseCustomer({ path: { id: this.id() } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    if (this.downloadUrl()) URL.revokeObjectURL(this.downloadUrl());
    this.downloadUrl.set('');
    this.categories.set(null);
    this.confirmErase.set(false);
    this.notice.set(this.i18n.t('privacy.erased'));
    await this.load();
  }
}
