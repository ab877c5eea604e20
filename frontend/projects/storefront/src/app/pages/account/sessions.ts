import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { I18n, ProblemAlert, endMySession, listMySessions, outcome, type ActiveSession, type Problem } from 'shared';
import { Customer } from '../../customer';

/** The browsers signed in to this account; any of them can be signed out from here. */
@Component({
  selector: 'shop-sessions',
  imports: [ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h2>{{ i18n.t('account.sessions') }}</h2>
    <p>{{ i18n.t('sessions.intro') }}</p>
    <agora-problem-alert [problem]="problem()" />
    <ul class="plain-list" role="list">
      @for (session of sessions(); track session.id) {
        <li class="card">
          <p>
            <strong>{{ session.current ? i18n.t('sessions.this') : (session.user_agent ?? '—') }}</strong>
          </p>
          <p>{{ i18n.t('sessions.started', { when: when(session.created_at) }) }}</p>
          <button type="button" class="button secondary" (click)="end(session)">
            {{ i18n.t('sessions.sign-out') }}
          </button>
        </li>
      }
    </ul>`,
})
export class Sessions implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly customer = inject(Customer);
  private readonly router = inject(Router);
  protected readonly sessions = signal<ActiveSession[]>([]);
  protected readonly problem = signal<Problem | null>(null);

  /** In the visitor's language, through the browser's own formatting (no locale data to ship). */
  protected when(iso: string): string {
    return new Intl.DateTimeFormat(this.i18n.locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(
      new Date(iso),
    );
  }

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected async end(session: ActiveSession): Promise<void> {
    const result = await outcome(endMySession({ path: { id: session.id } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    if (session.current) {
      this.customer.forget();
      await this.router.navigateByUrl('/login');
    } else {
      await this.load();
    }
  }

  private async load(): Promise<void> {
    const result = await outcome(listMySessions());
    if (result.ok) {
      this.sessions.set(result.data);
    } else {
      this.problem.set(result.problem);
    }
  }
}
