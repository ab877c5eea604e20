import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  ProblemAlert,
  getEmailPreferences,
  outcome,
  updateEmailPreferences,
  type Preferences,
  type Problem,
} from 'shared';
import { EmailTabs } from './email-tabs';

/** What one recipient agreed to receive: look it up by address, and honour an opt-out asked for by phone. */
@Component({
  selector: 'admin-email-preferences',
  imports: [FormsModule, ProblemAlert, EmailTabs],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('emails.title') }}</h1>
    <admin-email-tabs />
    <h2 id="lookup-title">{{ i18n.t('emails.preferences') }}</h2>
    <p>{{ i18n.t('emails.preferences-intro') }}</p>
    <form (ngSubmit)="lookUp()" novalidate aria-labelledby="lookup-title">
      <div class="field">
        <label for="preferences-email">{{ i18n.t('ops.email') }}</label>
        <input id="preferences-email" name="email" type="email" required [(ngModel)]="email" />
      </div>
      <button class="button secondary" type="submit">{{ i18n.t('emails.look-up') }}</button>
    </form>
    <agora-problem-alert [problem]="problem()" />
    @if (preferences(); as p) {
      <section class="card" aria-labelledby="preferences-of">
        <h3 id="preferences-of">{{ p.email }}</h3>
        <p>{{ p.marketing_opt_out ? i18n.t('emails.opted-out') : i18n.t('emails.opted-in') }}</p>
        @if (saved()) {
          <p class="notice" role="status">{{ i18n.t('common.saved') }}</p>
        }
        <label>
          <input type="checkbox" [checked]="p.marketing_opt_out" (change)="setOptOut(!p.marketing_opt_out)" />
          {{ i18n.t('emails.no-marketing') }}
        </label>
        <p class="hint">{{ i18n.t('emails.transactional-still') }}</p>
      </section>
    }`,
})
export class EmailPreferencesPage {
  protected readonly i18n = inject(I18n);
  protected readonly email = signal('');
  protected readonly preferences = signal<Preferences | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly saved = signal(false);

  protected async lookUp(): Promise<void> {
    this.saved.set(false);
    const result = await outcome(getEmailPreferences({ path: { email: this.email().trim() } }));
    if (!result.ok) {
      this.preferences.set(null);
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.preferences.set(result.data);
  }

  protected async setOptOut(optOut: boolean): Promise<void> {
    const current = this.preferences();
    if (!current) return;
    const result = await outcome(
      updateEmailPreferences({ path: { email: current.email }, body: { marketing_opt_out: optOut } }),
    );
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.preferences.set(result.data);
    this.saved.set(true);
  }
}
