import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { I18n, ProblemAlert, listCustomers, outcome, type Page_CustomerSummary_, type Problem } from 'shared';
import { when } from '../../texts/when';

type Summary = Page_CustomerSummary_['items'][number];

/** The shop's customers, newest first: search by email or name, then open one. */
@Component({
  selector: 'admin-customers',
  imports: [FormsModule, RouterLink, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('customers.title') }}</h1>
    <form class="filters" (ngSubmit)="load(false)" [attr.aria-label]="i18n.t('ops.filters')">
      <div class="field">
        <label for="customer-search">{{ i18n.t('customers.search') }}</label>
        <input id="customer-search" name="q" type="search" [(ngModel)]="q" />
      </div>
      <div class="field">
        <label for="customer-verified">{{ i18n.t('customers.verified') }}</label>
        <select id="customer-verified" name="verified" [(ngModel)]="verified">
          <option value="">{{ i18n.t('ops.any') }}</option>
          <option value="true">{{ i18n.t('customers.yes') }}</option>
          <option value="false">{{ i18n.t('customers.no') }}</option>
        </select>
      </div>
      <div class="field">
        <label for="customer-erased">{{ i18n.t('customers.erased') }}</label>
        <select id="customer-erased" name="erased" [(ngModel)]="erased">
          <option value="">{{ i18n.t('ops.any') }}</option>
          <option value="false">{{ i18n.t('customers.current') }}</option>
          <option value="true">{{ i18n.t('customers.erased-only') }}</option>
        </select>
      </div>
      <button class="button secondary" type="submit">{{ i18n.t('ops.apply-filters') }}</button>
    </form>
    <agora-problem-alert [problem]="problem()" [placed]="[]" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('customers.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('customers.name') }}</th>
            <th scope="col">{{ i18n.t('ops.email') }}</th>
            <th scope="col">{{ i18n.t('customers.registered') }}</th>
            <th scope="col">{{ i18n.t('customers.last-sign-in') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (c of customers(); track c.id) {
            <tr>
              <td>
                <a [routerLink]="['/customers', c.id]">{{
                  c.erased ? i18n.t('customers.erased-customer') : c.name || c.email
                }}</a>
                @if (c.erased) {
                  <span class="badge off">{{ i18n.t('customers.erased') }}</span>
                }
              </td>
              <td class="break">
                {{ c.email ?? '—' }}
                @if (!c.erased && !c.email_verified) {
                  <span class="badge off">{{ i18n.t('customers.unverified') }}</span>
                }
              </td>
              <td>{{ when(c.created_at) }}</td>
              <td>{{ c.last_sign_in_at ? when(c.last_sign_in_at) : '—' }}</td>
            </tr>
          } @empty {
            <tr>
              <td colspan="4">{{ i18n.t('customers.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (next()) {
      <button type="button" class="button secondary" (click)="load(true)">{{ i18n.t('ops.more') }}</button>
    }`,
})
export class CustomersPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly q = signal('');
  protected readonly verified = signal('');
  protected readonly erased = signal('');
  protected readonly customers = signal<Summary[]>([]);
  protected readonly next = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  private requests = 0;

  async ngOnInit(): Promise<void> {
    await this.load(false);
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected async load(more: boolean): Promise<void> {
    const cursor = more ? (this.next() ?? undefined) : undefined;
    // Only the latest request's answer is shown (a search typed while a page loads).
    const request = ++this.requests;
    const flag = (value: string) => (value === '' ? undefined : value === 'true');
    const result = await outcome(
      listCustomers({
        query: {
          limit: 25,
          cursor,
          q: this.q().trim() || undefined,
          email_verified: flag(this.verified()),
          erased: flag(this.erased()),
        },
      }),
    );
    if (request !== this.requests) return;
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.customers.update((shown) => (more ? [...shown, ...result.data.items] : result.data.items));
    this.next.set(result.data.next_cursor ?? null);
  }
}
