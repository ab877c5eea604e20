import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  createApiKey,
  fieldMessage,
  listApiKeys,
  outcome,
  revokeApiKey,
  type ApiKey,
  type Problem,
} from 'shared';
import { StaffSession } from '../staff-session';

/** Keys for integrations. A new key is shown once, right after creation, and never again. */
@Component({
  selector: 'admin-api-keys',
  imports: [DatePipe, FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('admin.keys.title') }}</h1>
    @if (created(); as key) {
      <div class="notice" role="status">
        <p>{{ i18n.t('admin.keys.copy-now', { name: key.name }) }}</p>
        <p class="secret" data-testid="new-api-key">{{ key.key }}</p>
        <button type="button" class="button secondary" (click)="created.set(null)">
          {{ i18n.t('admin.keys.stored') }}
        </button>
      </div>
    }
    <agora-problem-alert [problem]="listProblem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('admin.keys.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('admin.field.name') }}</th>
            <th scope="col">{{ i18n.t('admin.keys.prefix') }}</th>
            <th scope="col">{{ i18n.t('admin.keys.scopes') }}</th>
            <th scope="col">{{ i18n.t('admin.keys.last-used') }}</th>
            <th scope="col">{{ i18n.t('admin.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (key of keys(); track key.id) {
            <tr>
              <td>{{ key.name }}</td>
              <td>
                <code>{{ key.prefix }}</code>
              </td>
              <td>{{ key.scopes.join(', ') }}</td>
              <td>{{ key.last_used_at ? (key.last_used_at | date: 'medium') : i18n.t('admin.keys.never') }}</td>
              <td>
                @if (key.revoked) {
                  {{ i18n.t('admin.keys.revoked') }}
                } @else {
                  <button
                    type="button"
                    class="button danger"
                    (click)="revoke(key)"
                    [attr.aria-label]="i18n.t('admin.keys.revoke-named', { name: key.name })"
                  >
                    {{ i18n.t('admin.keys.revoke') }}
                  </button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <h2 id="key-title">{{ i18n.t('admin.keys.create-title') }}</h2>
    <agora-problem-alert [problem]="problem()" [placed]="['name', 'scopes']" />
    <form (ngSubmit)="create()" novalidate aria-labelledby="key-title">
      <div class="field">
        <label for="key-name">{{ i18n.t('admin.field.name') }}</label>
        <input
          id="key-name"
          name="name"
          required
          [(ngModel)]="name"
          [attr.aria-invalid]="!!error('name')"
          [attr.aria-describedby]="error('name') ? 'key-name-error' : null"
        />
        <agora-field-error [problem]="problem()" field="name" for="key-name" />
      </div>
      <fieldset class="checks">
        <legend>{{ i18n.t('admin.keys.scopes-legend') }}</legend>
        @for (permission of mine(); track permission) {
          <label>
            <input type="checkbox" [checked]="scopes().includes(permission)" (change)="toggle(permission)" />
            {{ permission }}
          </label>
        }
        <agora-field-error [problem]="problem()" field="scopes" for="key-scopes" />
      </fieldset>
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('admin.keys.create') }}</button>
    </form>`,
})
export class ApiKeysPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly mine = () => [...this.session.permissions()].sort();
  protected readonly keys = signal<ApiKey[]>([]);
  protected readonly created = signal<ApiKey | null>(null);
  protected readonly name = signal('');
  protected readonly scopes = signal<string[]>([]);
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
    this.scopes.update((all) =>
      all.includes(permission) ? all.filter((p) => p !== permission) : [...all, permission],
    );
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(createApiKey({ body: { name: this.name(), scopes: this.scopes() } }));
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.created.set(result.data);
    this.name.set('');
    this.scopes.set([]);
    await this.load();
  }

  protected async revoke(key: ApiKey): Promise<void> {
    const result = await outcome(revokeApiKey({ path: { id: key.id } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    await this.load();
  }

  private async load(): Promise<void> {
    const result = await outcome(listApiKeys());
    if (result.ok) {
      this.keys.set(result.data);
    } else {
      this.listProblem.set(result.problem);
    }
  }
}
