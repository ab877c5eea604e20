import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  assignStaffRoles,
  disableStaff,
  fieldMessage,
  inviteStaff,
  listRoles,
  listStaff,
  outcome,
  type Account,
  type Problem,
  type Role,
} from 'shared';
import { StaffSession } from '../staff-session';

/** The shop's team: invite a member with roles, change a member's roles, disable a member. */
@Component({
  selector: 'admin-staff',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.staff.title') }}</h1>
    <agora-problem-alert [problem]="listProblem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('admin.staff.members')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('admin.field.name') }}</th>
            <th scope="col">{{ i18n.t('admin.field.email') }}</th>
            <th scope="col">{{ i18n.t('admin.field.roles') }}</th>
            <th scope="col">{{ i18n.t('admin.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (member of members(); track member.id) {
            <tr>
              <td>{{ member.name }}</td>
              <td>{{ member.email }}</td>
              <td>
                @if (editing() === member.id) {
                  <fieldset class="checks">
                    <legend>{{ i18n.t('admin.staff.roles-of', { email: member.email }) }}</legend>
                    @for (role of roles(); track role.key) {
                      <label>
                        <input type="checkbox" [checked]="chosen().includes(role.key)" (change)="toggle(role.key)" />
                        {{ role.name }}
                      </label>
                    }
                  </fieldset>
                  <div class="row">
                    <button type="button" class="button" (click)="saveRoles(member)">
                      {{ i18n.t('admin.staff.save-roles') }}
                    </button>
                    <button type="button" class="button secondary" (click)="editing.set(null)">
                      {{ i18n.t('common.cancel') }}
                    </button>
                  </div>
                } @else {
                  {{ roleNames(member.roles) }}
                }
              </td>
              <td>
                @if (member.disabled) {
                  {{ i18n.t('admin.staff.disabled') }}
                } @else if (member.id !== session.account()?.id) {
                  <div class="row">
                    <button
                      type="button"
                      class="button secondary"
                      (click)="edit(member)"
                      [attr.aria-label]="i18n.t('admin.staff.change-roles-of', { email: member.email })"
                    >
                      {{ i18n.t('admin.staff.change-roles') }}
                    </button>
                    <button
                      type="button"
                      class="button danger"
                      (click)="disable(member)"
                      [attr.aria-label]="i18n.t('admin.staff.disable-named', { email: member.email })"
                    >
                      {{ i18n.t('admin.staff.disable') }}
                    </button>
                  </div>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>

    <h2 id="invite-title">{{ i18n.t('admin.staff.invite-title') }}</h2>
    @if (invited(); as email) {
      <p class="notice" role="status">{{ i18n.t('admin.staff.invited', { email: email }) }}</p>
    }
    <agora-problem-alert [problem]="problem()" [placed]="['email', 'name', 'roles']" />
    <form (ngSubmit)="invite()" novalidate aria-labelledby="invite-title">
      <div class="field">
        <label for="invite-email">{{ i18n.t('admin.field.email') }}</label>
        <input
          id="invite-email"
          name="email"
          type="email"
          required
          [(ngModel)]="email"
          [attr.aria-invalid]="!!error('email')"
          [attr.aria-describedby]="error('email') ? 'invite-email-error' : null"
        />
        <agora-field-error [problem]="problem()" field="email" for="invite-email" />
      </div>
      <div class="field">
        <label for="invite-name">{{ i18n.t('admin.field.name') }}</label>
        <input
          id="invite-name"
          name="name"
          [(ngModel)]="name"
          [attr.aria-invalid]="!!error('name')"
          [attr.aria-describedby]="error('name') ? 'invite-name-error' : null"
        />
        <agora-field-error [problem]="problem()" field="name" for="invite-name" />
      </div>
      <fieldset class="checks" [attr.aria-describedby]="error('roles') ? 'invite-roles-error' : null">
        <legend>{{ i18n.t('admin.field.roles') }}</legend>
        @for (role of roles(); track role.key) {
          <label>
            <input type="checkbox" [checked]="inviteRoles().includes(role.key)" (change)="toggleInvite(role.key)" />
            {{ role.name }}
          </label>
        }
        <agora-field-error [problem]="problem()" field="roles" for="invite-roles" />
      </fieldset>
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.staff.invite') }}</button>
    </form>`,
})
export class StaffPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(StaffSession);
  protected readonly members = signal<Account[]>([]);
  protected readonly roles = signal<Role[]>([]);

  /** The roles' names as the invite form shows them; a key stays when the roles are not listed. */
  protected roleNames(keys: readonly string[]): string {
    const names = new Map(this.roles().map((role) => [role.key, role.name]));
    return keys.map((key) => names.get(key) ?? key).join(', ');
  }
  protected readonly editing = signal<string | null>(null);
  protected readonly chosen = signal<string[]>([]);
  protected readonly email = signal('');
  protected readonly name = signal('');
  protected readonly inviteRoles = signal<string[]>([]);
  protected readonly invited = signal<string | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    await this.load();
    // Only members who may also manage roles can list them; the others invite without roles.
    if (this.session.can('roles.manage')) {
      const roles = await outcome(listRoles());
      if (roles.ok) this.roles.set(roles.data);
    }
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected edit(member: Account): void {
    this.editing.set(member.id);
    this.chosen.set([...member.roles]);
  }

  protected toggle(key: string): void {
    this.chosen.update((keys) => (keys.includes(key) ? keys.filter((k) => k !== key) : [...keys, key]));
  }

  protected toggleInvite(key: string): void {
    this.inviteRoles.update((keys) => (keys.includes(key) ? keys.filter((k) => k !== key) : [...keys, key]));
  }

  protected async saveRoles(member: Account): Promise<void> {
    const result = await outcome(assignStaffRoles({ path: { id: member.id }, body: { roles: this.chosen() } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.editing.set(null);
    await this.load();
  }

  protected async disable(member: Account): Promise<void> {
    const result = await outcome(disableStaff({ path: { id: member.id } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    await this.load();
  }

  protected async invite(): Promise<void> {
    this.busy.set(true);
    const email = this.email();
    const result = await outcome(
      inviteStaff({ body: { email, name: this.name() || null, roles: this.inviteRoles() } }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.invited.set(email);
    this.email.set('');
    this.name.set('');
    this.inviteRoles.set([]);
    await this.load();
  }

  private async load(): Promise<void> {
    const result = await outcome(listStaff({ query: { limit: 100 } }));
    if (result.ok) {
      this.members.set(result.data.items);
    } else {
      this.listProblem.set(result.problem);
    }
  }
}
