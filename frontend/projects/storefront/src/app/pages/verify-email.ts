import { ChangeDetectionStrategy, Component, OnInit, inject, input, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n, ProblemAlert, outcome, verifyEmail, type Problem } from 'shared';
import { Customer } from '../customer';

/** The page a verification email links to (`/verify-email?token=…`): confirms on arrival. */
@Component({
  selector: 'shop-verify-email',
  imports: [RouterLink, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('verify.title') }}</h1>
    @if (problem()) {
      <agora-problem-alert [problem]="problem()" />
    } @else if (done()) {
      <p class="notice" role="status">{{ i18n.t('verify.done') }}</p>
      <p>
        @if (customer.signedIn()) {
          <a class="button" routerLink="/account">{{ i18n.t('nav.account') }}</a>
        } @else {
          <a class="button" routerLink="/login">{{ i18n.t('nav.login') }}</a>
        }
      </p>
    } @else {
      <p role="status">{{ i18n.t('verify.working') }}</p>
    }
  </div>`,
})
export class VerifyEmail implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly customer = inject(Customer);
  readonly token = input<string | undefined>();
  protected readonly problem = signal<Problem | null>(null);
  protected readonly done = signal(false);

  async ngOnInit(): Promise<void> {
    const result = await outcome(verifyEmail({ body: { token: this.token() ?? '' } }));
    if (result.ok) {
      this.done.set(true);
      if (this.customer.signedIn()) {
        await this.customer.refresh();
      }
    } else {
      this.problem.set(result.problem);
    }
  }
}
