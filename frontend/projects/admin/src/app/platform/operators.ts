import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  createOperator,
  disableOperator,
  enableOperator,
  fieldMessage,
  listOperators,
  outcome,
  type Operator,
  type Problem,
} from 'shared';
import { when } from '../texts/when';
import { OperatorSession } from './operator-session';
import { PagedList } from './paged-list';

const PAGE_SIZE = 50;

/** The fields of the new-operator form, by the names the API's field errors use. */
const FIELDS = [
  { id: 'operator-email', field: 'email', label: 'console.operators.email', type: 'email', hint: null },
  { id: 'operator-name', field: 'name', label: 'console.operators.name', type: 'text', hint: null },
  {
    id: 'operator-password',
    field: 'password',
    label: 'console.operators.password',
    type: 'password',
    hint: 'console.operators.password-hint',
  },
] as const;

/** The platform's operators: who they are, adding one, and disabling or enabling them. */
@Component({
  selector: 'admin-platform-operators',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('console.operators.title') }}</h1>
    <p>{{ i18n.t('console.operators.intro') }}</p>
    @if (notice(); as text) {
      <p class="notice" role="status">{{ text }}</p>
    }
    <agora-problem-alert [problem]="actionProblem()" />
    <agora-problem-alert [problem]="list.problem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('console.operators.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('console.operators.name') }}</th>
            <th scope="col">{{ i18n.t('console.operators.email') }}</th>
            <th scope="col">{{ i18n.t('console.operators.since') }}</th>
            <th scope="col">{{ i18n.t('console.operators.status') }}</th>
            <th scope="col">{{ i18n.t('console.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (operator of list.items(); track operator.id) {
            <tr>
              <td>
                {{ operator.name }}
                @if (isMe(operator)) {
                  <span class="hint">({{ i18n.t('console.operators.you') }})</span>
                }
              </td>
              <td class="break">{{ operator.email }}</td>
              <td>{{ when(operator.created_at) }}</td>
              <td>
                @if (operator.disabled_at) {
                  <span class="badge off">{{ i18n.t('console.operators.disabled') }}</span>
                } @else {
                  <span class="badge">{{ i18n.t('console.operators.active') }}</span>
                }
              </td>
              <td>
                @if (operator.disabled_at) {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="enable(operator)"
                    [disabled]="busy() === operator.id"
                    [attr.aria-label]="i18n.t('console.operators.enable-named', { name: label(operator) })"
                  >
                    {{ i18n.t('console.operators.enable') }}
                  </button>
                } @else if (!isMe(operator)) {
                  <button
                    type="button"
                    class="button danger"
                    (click)="disable(operator)"
                    [disabled]="busy() === operator.id"
                    [attr.aria-label]="i18n.t('console.operators.disable-named', { name: label(operator) })"
                  >
                    {{ i18n.t('console.operators.disable') }}
                  </button>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="5">{{ i18n.t(list.loaded() ? 'console.operators.none' : 'console.loading') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (list.hasNewer() || list.next()) {
      <nav class="row pager" [attr.aria-label]="i18n.t('console.pages')">
        <button type="button" class="button secondary" (click)="list.newer()" [disabled]="!list.hasNewer()">
          {{ i18n.t('console.newer') }}
        </button>
        <span>{{ i18n.t('console.page', { page: list.page() }) }}</span>
        <button type="button" class="button secondary" (click)="list.older()" [disabled]="!list.next()">
          {{ i18n.t('console.older') }}
        </button>
      </nav>
    }
    <h2 id="new-operator">{{ i18n.t('console.operators.new') }}</h2>
    <agora-problem-alert [problem]="problem()" [placed]="placed" />
    <form (ngSubmit)="create()" novalidate aria-labelledby="new-operator">
      @for (f of fields; track f.id) {
        <div class="field">
          <label [for]="f.id">{{ i18n.t(f.label) }}</label>
          <input
            [id]="f.id"
            [name]="f.id"
            [type]="f.type"
            [attr.autocomplete]="f.type === 'password' ? 'new-password' : 'off'"
            [ngModel]="values()[f.field]"
            (ngModelChange)="set(f.field, $event)"
            [attr.aria-invalid]="!!error(f.field)"
            [attr.aria-describedby]="describedBy(f.id, f.field, f.hint)"
          />
          @if (f.hint) {
            <p class="hint" [id]="f.id + '-hint'">{{ i18n.t(f.hint) }}</p>
          }
          <agora-field-error [problem]="problem()" [field]="f.field" [for]="f.id" />
        </div>
      }
      <button class="button" type="submit" [disabled]="creating()">{{ i18n.t('console.operators.create') }}</button>
    </form>`,
})
export class PlatformOperatorsPage {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(OperatorSession);
  protected readonly fields = FIELDS;
  protected readonly placed = FIELDS.map((f) => f.field);
  protected readonly values = signal<Record<string, string>>({});
  protected readonly problem = signal<Problem | null>(null);
  protected readonly actionProblem = signal<Problem | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly creating = signal(false);
  protected readonly busy = signal<string | null>(null);
  protected readonly list = new PagedList<Operator>((cursor) =>
    outcome(listOperators({ query: { limit: PAGE_SIZE, cursor } })),
  );

  constructor() {
    void this.list.first();
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected isMe(operator: Operator): boolean {
    return operator.id === this.session.operator()?.id;
  }

  protected label(operator: Operator): string {
    return operator.name || operator.email;
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected describedBy(id: string, field: string, hint: string | null): string | null {
    const ids = [hint ? `${id}-hint` : null, this.error(field) ? `${id}-error` : null].filter(Boolean);
    return ids.length ? ids.join(' ') : null;
  }

  protected set(field: string, value: string): void {
    this.values.update((v) => ({ ...v, [field]: value }));
  }

  protected async create(): Promise<void> {
    const v = this.values();
    this.creating.set(true);
    this.notice.set(null);
    const result = await outcome(
      createOperator({
        body: { email: v['email']?.trim() ?? '', name: v['name']?.trim() || null, password: v['password'] ?? '' },
      }),
    );
    this.creating.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.values.set({});
    this.notice.set(this.i18n.t('console.operators.created', { name: this.label(result.data) }));
    await this.list.reload();
  }

  protected async disable(operator: Operator): Promise<void> {
    await this.act(operator, disableOperator({ path: { id: operator.id } }), 'console.operators.disabled-notice');
  }

  protected async enable(operator: Operator): Promise<void> {
    await this.act(operator, enableOperator({ path: { id: operator.id } }), 'console.operators.enabled-notice');
  }

  private async act(
    operator: Operator,
    call: Promise<{ data?: Operator; error?: unknown; response?: Response }>,
    done: string,
  ): Promise<void> {
    this.busy.set(operator.id);
    this.notice.set(null);
    const result = await outcome(call);
    this.busy.set(null);
    if (!result.ok) {
      this.actionProblem.set(result.problem);
      return;
    }
    this.actionProblem.set(null);
    this.notice.set(this.i18n.t(done, { name: this.label(operator) }));
    await this.list.reload();
  }
}
