import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { FieldError, I18n, ProblemAlert, fieldMessage, outcome, registerCustomer, type Problem } from 'shared';

@Component({
  selector: 'shop-register',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="page">
    <h1>{{ i18n.t('register.title') }}</h1>
    @if (registeredAs(); as email) {
      <p class="notice" role="status">{{ i18n.t('register.done', { email }) }}</p>
    } @else {
      <agora-problem-alert [problem]="problem()" [placed]="fields" />
      <form (ngSubmit)="submit()" novalidate>
        <div class="field">
          <label for="name">{{ i18n.t('field.name') }}</label>
          <input
            id="name"
            name="name"
            autocomplete="name"
            [(ngModel)]="name"
            [attr.aria-invalid]="!!error('name')"
            [attr.aria-describedby]="error('name') ? 'name-error' : null"
          />
          <agora-field-error [problem]="problem()" field="name" for="name" />
        </div>
        <div class="field">
          <label for="email">{{ i18n.t('field.email') }}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            [(ngModel)]="email"
            [attr.aria-invalid]="!!error('email')"
            [attr.aria-describedby]="error('email') ? 'email-error' : null"
          />
          <agora-field-error [problem]="problem()" field="email" for="email" />
        </div>
        <div class="field">
          <label for="password">{{ i18n.t('field.password') }}</label>
          <p class="hint" id="password-hint">{{ i18n.t('field.password-hint') }}</p>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="new-password"
            required
            [(ngModel)]="password"
            [attr.aria-invalid]="!!error('password')"
            [attr.aria-describedby]="error('password') ? 'password-hint password-error' : 'password-hint'"
          />
          <agora-field-error [problem]="problem()" field="password" for="password" />
        </div>
        <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('register.submit') }}</button>
      </form>
      <p>
        <a routerLink="/login">{{ i18n.t('register.have-account') }}</a>
      </p>
    }
  </div>`,
})
export class Register {
  protected readonly i18n = inject(I18n);
  protected readonly fields = ['name', 'email', 'password'];
  protected readonly name = signal('');
  protected readonly email = signal('');
  protected readonly password = signal('');
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly registeredAs = signal<string | null>(null);

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected async submit(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(
      registerCustomer({ body: { name: this.name() || null, email: this.email(), password: this.password() } }),
    );
    this.busy.set(false);
    if (result.ok) {
      this.problem.set(null);
      this.registeredAs.set(this.email());
    } else {
      this.problem.set(result.problem);
    }
  }
}
