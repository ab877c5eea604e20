import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  createRole,
  deleteRole,
  fieldMessage,
  listRoles,
  outcome,
  type Problem,
  type Role,
} from 'shared';
import { StaffSession } from '../staff-session';

/** Built-in roles and the shop's own, which are sets of permissions. */
@Component({
  selector: 'admin-roles',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.roles.title') }}</h1>
    <agora-problem-alert [problem]="listProblem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('admin.roles.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('admin.roles.role') }}</th>
            <th scope="col">{{ i18n.t('admin.roles.permissions') }}</th>
            <th scope="col">{{ i18n.t('admin.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (role of roles(); track role.key) {
            <tr>
              <td>
                {{ role.name }}
                @if (role.builtin) {
                  <span>{{ i18n.t('admin.roles.built-in') }}</span>
                }
              </td>
              <td>{{ role.permissions.join(', ') }}</td>
              <td>
                @if (!role.builtin) {
                  <button
                    type="button"
                    class="button danger"
                    (click)="remove(role)"
                    [attr.aria-label]="i18n.t('admin.roles.delete-named', { name: role.name })"
                  >
                    {{ i18n.t('common.delete') }}
                  </button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <h2 id="role-title">{{ i18n.t('admin.roles.create-title') }}</h2>
    <agora-problem-alert [problem]="problem()" [placed]="['key', 'name', 'permissions']" />
    <form (ngSubmit)="create()" novalidate aria-labelledby="role-title">
      <div class="field">
        <label for="role-name">{{ i18n.t('admin.field.name') }}</label>
        <input
          id="role-name"
          name="name"
          required
          [(ngModel)]="name"
          [attr.aria-invalid]="!!error('name')"
          [attr.aria-describedby]="error('name') ? 'role-name-error' : null"
        />
        <agora-field-error [problem]="problem()" field="name" for="role-name" />
      </div>
      <div class="field">
        <label for="role-key">{{ i18n.t('admin.roles.key') }}</label>
        <p class="hint" id="role-key-hint">{{ i18n.t('admin.roles.key-hint') }}</p>
        <input
          id="role-key"
          name="key"
          required
          [(ngModel)]="key"
          [attr.aria-invalid]="!!error('key')"
          [attr.aria-describedby]="error('key') ? 'role-key-hint role-key-error' : 'role-key-hint'"
        />
        <agora-field-error [problem]="problem()" field="key" for="role-key" />
      </div>
      <fieldset class="checks">
        <legend>{{ i18n.t('admin.roles.permissions') }}</legend>
        @for (permission of known(); track permission) {
          <label>
            <input type="checkbox" [checked]="chosen().includes(permission)" (change)="toggle(permission)" />
            {{ permission }}
          </label>
        }
        <agora-field-error [problem]="problem()" field="permissions" for="role-permissions" />
      </fieldset>
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.roles.create') }}</button>
    </form>`,
})
export class RolesPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly roles = signal<Role[]>([]);
  /** Every permission some role grants, and the member's own: the choices a new role has. */
  protected readonly known = computed(() =>
    [...new Set([...this.roles().flatMap((r) => r.permissions), ...this.session.permissions()])].sort(),
  );
  protected readonly name = signal('');
  protected readonly key = signal('');
  protected readonly chosen = signal<string[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected toggle(permission: string): void {
    this.chosen.update((all) =>
      all.includes(permission) ? all.filter((p) => p !== permission) : [...all, permission],
    );
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(
      createRole({ body: { key: this.key(), name: this.name(), permissions: this.chosen() } }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.key.set('');
    this.name.set('');
    this.chosen.set([]);
    await this.load();
  }

  protected async remove(role: Role): Promise<void> {
    const result = await outcome(deleteRole({ path: { key: role.key } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    await this.load();
  }

  private async load(): Promise<void> {
    const result = await outcome(listRoles());
    if (result.ok) {
      this.roles.set(result.data);
    } else {
      this.listProblem.set(result.problem);
    }
  }
}
