import { ChangeDetectionStrategy, Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  I18n,
  ProblemAlert,
  eraseCustomer,
  exportCustomerData,
  outcome,
  type CustomerExport,
  type Problem,
} from 'shared';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A customer's data requests (GDPR): a copy of everything the shop holds about them, or its
 * erasure. The admin API finds customers only by id; the email log names the account each email
 * went to, and links here.
 */
@Component({
  selector: 'admin-customer-privacy',
  imports: [FormsModule, RouterLink, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('privacy.title') }}</h1>
    <p>
      {{ i18n.t('privacy.intro') }} <a routerLink="/emails/log">{{ i18n.t('privacy.find-in-log') }}</a>
    </p>
    <form (ngSubmit)="load()" novalidate [attr.aria-label]="i18n.t('privacy.title')">
      <div class="field">
        <label for="customer-id">{{ i18n.t('privacy.customer-id') }}</label>
        <input
          id="customer-id"
          name="id"
          required
          [(ngModel)]="customerId"
          aria-describedby="customer-id-hint"
          [attr.aria-invalid]="invalidId()"
        />
        <p class="hint" id="customer-id-hint">{{ i18n.t('privacy.customer-id-hint') }}</p>
      </div>
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('privacy.export') }}</button>
    </form>
    <agora-problem-alert [problem]="problem()" />
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    @if (exported(); as data) {
      <section class="card" aria-labelledby="export-title" data-testid="customer-export">
        <h2 id="export-title">{{ data.account.name || data.account.email }}</h2>
        <dl class="facts">
          <dt>{{ i18n.t('ops.email') }}</dt>
          <dd>{{ data.account.email }}</dd>
          <dt>{{ i18n.t('privacy.addresses') }}</dt>
          <dd>{{ data.addresses.length }}</dd>
          <dt>{{ i18n.t('privacy.categories') }}</dt>
          <dd>{{ data.categories.join(', ') }}</dd>
        </dl>
        <div class="row">
          <a class="button" [href]="downloadUrl()" [attr.download]="fileName()">{{ i18n.t('privacy.download') }}</a>
        </div>
        <h3>{{ i18n.t('privacy.erase-title') }}</h3>
        <p>{{ i18n.t('privacy.erase-intro') }}</p>
        <p>
          <label>
            <input type="checkbox" name="confirm" [(ngModel)]="confirmErase" />
            {{ i18n.t('privacy.erase-confirm', { email: data.account.email }) }}
          </label>
        </p>
        <div class="row">
          <button type="button" class="button danger" (click)="erase()" [disabled]="!confirmErase() || busy()">
            {{ i18n.t('privacy.erase') }}
          </button>
        </div>
      </section>
    }`,
})
export class CustomerPrivacyPage implements OnInit {
  protected readonly i18n = inject(I18n);
  /** A customer id handed over in the address (`?id=…`), from the email log. */
  readonly id = input<string | undefined>();
  protected readonly customerId = signal('');
  protected readonly exported = signal<CustomerExport | null>(null);
  protected readonly downloadUrl = signal('');
  protected readonly confirmErase = signal(false);
  protected readonly invalidId = signal(false);
  protected readonly notice = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    const given = this.id();
    if (given) {
      this.customerId.set(given);
      await this.load();
    }
  }

  protected fileName(): string {
    return `customer-${this.exported()?.account.id ?? ''}.json`;
  }

  protected async load(): Promise<void> {
    const id = this.customerId().trim();
    this.notice.set(null);
    this.invalidId.set(!UUID.test(id));
    if (this.invalidId()) {
      this.problem.set({
        type: 'about:blank',
        title: this.i18n.t('privacy.bad-id'),
        detail: '',
        status: 0,
      });
      return;
    }
    this.busy.set(true);
    const result = await outcome(exportCustomerData({ path: { id } }));
    this.busy.set(false);
    this.show(null);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.show(result.data);
  }

  protected async erase(): Promise<void> {
    const data = this.exported();
    if (!data || !this.confirmErase()) return;
    this.busy.set(true);
    const result = await outcome(eraseCustomer({ path: { id: data.account.id } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.show(null);
    this.notice.set(this.i18n.t('privacy.erased'));
  }

  private show(data: CustomerExport | null): void {
    if (this.downloadUrl()) URL.revokeObjectURL(this.downloadUrl());
    this.exported.set(data);
    this.confirmErase.set(false);
    this.downloadUrl.set(
      data ? URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })) : '',
    );
  }
}
