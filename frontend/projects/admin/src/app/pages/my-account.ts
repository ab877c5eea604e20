import { ChangeDetectionStrategy, Component, ElementRef, effect, inject, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  activateMyStaffMfa,
  fieldMessage,
  outcome,
  startMyStaffMfaEnrolment,
  type MfaEnrolment,
  type Problem,
} from 'shared';
import { StaffSession } from '../staff-session';

/**
 * Two-step verification for the signed-in member: scan a QR code (or type the secret), confirm
 * with a first code, and keep the recovery codes shown once.
 */
@Component({
  selector: 'admin-my-account',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.account.title') }}</h1>
    <p>
      {{ i18n.t('admin.account.signed-in-as') }} <strong>{{ session.account()?.email }}</strong>.
    </p>
    <h2>{{ i18n.t('admin.account.mfa') }}</h2>
    <agora-problem-alert [problem]="problem()" [placed]="['code']" />
    @if (recoveryCodes(); as codes) {
      <div class="notice" role="status">
        <p>{{ i18n.t('admin.account.mfa-on') }}</p>
        <ul class="secret" data-testid="recovery-codes">
          @for (code of codes; track code) {
            <li>{{ code }}</li>
          }
        </ul>
      </div>
    } @else if (enrolment(); as e) {
      <ol>
        <li>
          <p>{{ i18n.t('admin.account.scan') }}</p>
          <canvas #qr width="200" height="200" role="img" [attr.aria-label]="i18n.t('admin.account.qr')"></canvas>
          <p>
            {{ i18n.t('admin.account.type-key') }} <span class="secret" data-testid="totp-secret">{{ e.secret }}</span>
          </p>
        </li>
        <li>
          <form (ngSubmit)="activate()" novalidate>
            <div class="field">
              <label for="code">{{ i18n.t('admin.account.code') }}</label>
              <input
                id="code"
                name="code"
                inputmode="numeric"
                autocomplete="one-time-code"
                required
                [(ngModel)]="code"
                [attr.aria-invalid]="!!error()"
                [attr.aria-describedby]="error() ? 'code-error' : null"
              />
              <agora-field-error [problem]="problem()" field="code" for="code" />
            </div>
            <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.account.activate') }}</button>
          </form>
        </li>
      </ol>
    } @else {
      <p>{{ i18n.t('admin.account.protect') }}</p>
      <button type="button" class="button" (click)="start()" [disabled]="busy()">
        {{ i18n.t('admin.account.start') }}
      </button>
    }`,
})
export class MyAccount {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(StaffSession);
  protected readonly enrolment = signal<MfaEnrolment | null>(null);
  private readonly qr = viewChild<ElementRef<HTMLCanvasElement>>('qr');
  protected readonly code = signal('');
  protected readonly recoveryCodes = signal<string[] | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  constructor() {
    // The code is drawn once its canvas is on the page. A canvas, not an image: an image would
    // need a data: URL, which the pages' policy does not allow.
    effect(() => {
      const enrolment = this.enrolment();
      const canvas = this.qr()?.nativeElement;
      if (enrolment && canvas) {
        void drawQr(canvas, enrolment.otpauth_uri);
      }
    });
  }

  protected error(): string | null {
    return fieldMessage(this.problem(), 'code');
  }

  protected async start(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(startMyStaffMfaEnrolment());
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.enrolment.set(result.data);
  }

  protected async activate(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(activateMyStaffMfa({ body: { code: this.code().trim() } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.recoveryCodes.set(result.data.recovery_codes);
    await this.session.refresh();
  }
}

/** The QR encoder is loaded only by the few who enrol. */
async function drawQr(canvas: HTMLCanvasElement, uri: string): Promise<void> {
  const { toCanvas } = await import('qrcode');
  await toCanvas(canvas, uri, { margin: 2, width: 200 });
}
