import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
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
  template: `<h1>API keys</h1>
    @if (created(); as key) {
      <div class="notice" role="status">
        <p>Copy the key “{{ key.name }}” now: it will not be shown again.</p>
        <p class="secret" data-testid="new-api-key">{{ key.key }}</p>
        <button type="button" class="button secondary" (click)="created.set(null)">I have stored it</button>
      </div>
    }
    <agora-problem-alert [problem]="listProblem()" />
    <table>
      <caption class="visually-hidden">
        API keys
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Starts with</th>
          <th scope="col">Scopes</th>
          <th scope="col">Last used</th>
          <th scope="col">Actions</th>
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
            <td>{{ key.last_used_at ? (key.last_used_at | date: 'medium') : 'never' }}</td>
            <td>
              @if (key.revoked) {
                Revoked
              } @else {
                <button
                  type="button"
                  class="button danger"
                  (click)="revoke(key)"
                  [attr.aria-label]="'Revoke ' + key.name"
                >
                  Revoke
                </button>
              }
            </td>
          </tr>
        }
      </tbody>
    </table>
    <h2 id="key-title">Create a key</h2>
    <agora-problem-alert [problem]="problem()" [placed]="['name', 'scopes']" />
    <form (ngSubmit)="create()" novalidate aria-labelledby="key-title">
      <div class="field">
        <label for="key-name">Name</label>
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
        <legend>Scopes (a key can have only permissions you hold)</legend>
        @for (permission of mine(); track permission) {
          <label>
            <input type="checkbox" [checked]="scopes().includes(permission)" (change)="toggle(permission)" />
            {{ permission }}
          </label>
        }
        <agora-field-error [problem]="problem()" field="scopes" for="key-scopes" />
      </fieldset>
      <button class="button" type="submit" [disabled]="busy()">Create key</button>
    </form>`,
})
export class ApiKeysPage implements OnInit {
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
