import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { I18n, ProblemAlert, getSecurityPolicy, outcome, setSecurityPolicy, type Problem } from 'shared';

/** The shop's identity policy: whether every staff member must use two-step verification. */
@Component({
  selector: 'admin-security',
  imports: [ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.security.title') }}</h1>
    <agora-problem-alert [problem]="problem()" />
    @if (saved()) {
      <p class="notice" role="status">{{ i18n.t('common.saved') }}</p>
    }
    @if (loaded()) {
      <form (submit)="$event.preventDefault(); save()">
        <div class="field">
          <label>
            <input
              type="checkbox"
              name="staff_mfa_required"
              [checked]="mfaRequired()"
              (change)="mfaRequired.set(!mfaRequired())"
              aria-describedby="mfa-hint"
            />
            {{ i18n.t('admin.security.mfa') }}
          </label>
          <p class="hint" id="mfa-hint">{{ i18n.t('admin.security.mfa-hint') }}</p>
        </div>
        <button class="button" type="submit">{{ i18n.t('common.save') }}</button>
      </form>
    }`,
})
export class SecurityPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly mfaRequired = signal(false);
  protected readonly loaded = signal(false);
  protected readonly saved = signal(false);
  protected readonly problem = signal<Problem | null>(null);

  async ngOnInit(): Promise<void> {
    const result = await outcome(getSecurityPolicy());
    if (result.ok) {
      this.mfaRequired.set(result.data.staff_mfa_required);
      this.loaded.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }

  protected async save(): Promise<void> {
    this.saved.set(false);
    const result = await outcome(setSecurityPolicy({ body: { staff_mfa_required: this.mfaRequired() } }));
    if (result.ok) {
      this.problem.set(null);
      this.saved.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }
}
