import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { FieldError, ProblemAlert, fieldMessage, outcome, staffPasswordResetConfirm, type Problem } from 'shared';

/**
 * Where a staff invitation (`/admin/accept-invitation?token=…`) and a staff password reset
 * (`/admin/reset-password?token=…`) land: both set the member's password with the link's token.
 */
@Component({
  selector: 'admin-set-password',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<main class="page" id="main">
    <h1>{{ invitation ? 'Welcome: choose your password' : 'Choose a new password' }}</h1>
    @if (!token()) {
      <p class="problem-alert" role="alert">This link is incomplete. Ask for a new one.</p>
    } @else if (done()) {
      <p class="notice" role="status">Your password is set.</p>
      <p><a class="button" routerLink="/sign-in">Sign in</a></p>
    } @else {
      <agora-problem-alert [problem]="problem()" [placed]="['password']" />
      <form (ngSubmit)="submit()" novalidate>
        <div class="field">
          <label for="password">New password</label>
          <p class="hint" id="password-hint">At least 12 characters.</p>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="new-password"
            required
            [(ngModel)]="password"
            [attr.aria-invalid]="!!error()"
            [attr.aria-describedby]="error() ? 'password-hint password-error' : 'password-hint'"
          />
          <agora-field-error [problem]="problem()" field="password" for="password" />
        </div>
        <button class="button" type="submit" [disabled]="busy()">Save password</button>
      </form>
    }
  </main>`,
})
export class SetPassword {
  protected readonly invitation = inject(ActivatedRoute).snapshot.data['invitation'] === true;
  readonly token = input<string | undefined>();
  protected readonly password = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly done = signal(false);

  protected error(): string | null {
    return fieldMessage(this.problem(), 'password');
  }

  protected async submit(): Promise<void> {
    const token = this.token();
    if (!token) return;
    this.busy.set(true);
    const result = await outcome(staffPasswordResetConfirm({ body: { token, password: this.password() } }));
    this.busy.set(false);
    if (result.ok) {
      this.done.set(true);
    } else {
      this.problem.set(result.problem);
    }
  }
}
