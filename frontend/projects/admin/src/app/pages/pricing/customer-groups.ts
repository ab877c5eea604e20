import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  FieldError,
  I18n,
  ProblemAlert,
  addCustomerGroupMember,
  createCustomerGroup,
  deleteCustomerGroup,
  fieldMessage,
  getCustomer,
  listCustomerGroupMembers,
  listCustomerGroups,
  listCustomers,
  outcome,
  removeCustomerGroupMember,
  updateCustomerGroup,
  type CustomerGroup,
  type Page_CustomerGroupMember_,
  type Problem,
} from 'shared';
import { PRICING_GROUPS } from '../../texts/pricing-groups';
import { when } from '../../texts/when';
import { StaffSession } from '../../staff-session';
import { ifMatch } from '../catalog/catalog-support';
import { localProblem } from '../inventory/inventory-support';
import {
  groupForm,
  groupPatch,
  keyFrom,
  memberTarget,
  newGroupBody,
  withEmail,
  type GroupForm,
} from './customer-groups-support';

type Member = Page_CustomerGroupMember_['items'][number];

const GROUP_PLACED = ['name', 'key', 'email_domains', ...Array.from({ length: 100 }, (_, i) => `email_domains[${i}]`)];

function emptyGroup(): GroupForm {
  return { name: '', key: '', domains: '' };
}

/**
 * Customer groups: named sets of customers (wholesale, staff, partners) that price lists and
 * promotions apply to. A customer is in a group when staff added them here, or when their
 * verified email is at one of the group's domains.
 */
@Component({
  selector: 'admin-customer-groups',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('pricing.groups.title') }}</h1>
    <p>{{ i18n.t('pricing.groups.intro') }}</p>
    <agora-problem-alert [problem]="listProblem()" (reload)="load()" />
    @if (notice()) {
      <p class="notice" role="status">{{ notice() }}</p>
    }
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('pricing.groups.title')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('pricing.groups.name') }}</th>
            <th scope="col">{{ i18n.t('pricing.groups.key') }}</th>
            <th scope="col">{{ i18n.t('pricing.groups.domains') }}</th>
            <th scope="col">{{ i18n.t('pricing.groups.added-count') }}</th>
            <th scope="col">{{ i18n.t('pricing.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (g of groups(); track g.id) {
            <tr>
              <td>{{ g.name }}</td>
              <td>
                <code>{{ g.key }}</code>
              </td>
              <td>{{ g.email_domains.length ? g.email_domains.join(', ') : '—' }}</td>
              <td>{{ g.member_count }}</td>
              <td class="row">
                <button
                  type="button"
                  class="button secondary"
                  (click)="openMembers(g)"
                  [attr.aria-label]="i18n.t('pricing.groups.members-of', { name: g.name })"
                >
                  {{ i18n.t('pricing.groups.members') }}
                </button>
                @if (canManage()) {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="editGroup(g)"
                    [attr.aria-label]="i18n.t('pricing.edit-named', { name: g.name })"
                  >
                    {{ i18n.t('pricing.edit') }}
                  </button>
                  <button
                    type="button"
                    class="button secondary"
                    (click)="removeGroup(g)"
                    [attr.aria-label]="i18n.t('pricing.delete-named', { name: g.name })"
                  >
                    {{ i18n.t('pricing.delete') }}
                  </button>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="5">{{ i18n.t(loading() ? 'common.loading' : 'pricing.groups.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    @if (groupsCursor()) {
      <button type="button" class="button secondary" (click)="loadMoreGroups()">
        {{ i18n.t('pricing.groups.more-groups') }}
      </button>
    }

    @if (membersOf(); as group) {
      <section class="card" aria-labelledby="group-members-title">
        <h2 id="group-members-title">{{ i18n.t('pricing.groups.members-of', { name: group.name }) }}</h2>
        <p>
          {{
            group.email_domains.length
              ? i18n.t('pricing.groups.rule-members', { list: group.email_domains.join(', ') })
              : i18n.t('pricing.groups.hand-members')
          }}
        </p>
        <agora-problem-alert [problem]="memberProblem()" [placed]="['member']" (reload)="reloadMembers()" />
        @if (canManage()) {
          <form (ngSubmit)="addMember()" novalidate class="row">
            <div class="field grow">
              <label for="group-member">{{ i18n.t('pricing.groups.member') }}</label>
              <input
                id="group-member"
                name="member"
                autocomplete="off"
                [(ngModel)]="memberText"
                aria-describedby="group-member-hint group-member-error"
              />
              <p class="hint" id="group-member-hint">{{ i18n.t('pricing.groups.member-hint') }}</p>
              <agora-field-error [problem]="memberProblem()" field="member" for="group-member" />
            </div>
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t('pricing.groups.add-member', { name: group.name }) }}
            </button>
          </form>
        }
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">
              {{
                i18n.t('pricing.groups.members-of', { name: group.name })
              }}
            </caption>
            <thead>
              <tr>
                <th scope="col">{{ i18n.t('pricing.groups.customer') }}</th>
                <th scope="col">{{ i18n.t('pricing.groups.added-at') }}</th>
                <th scope="col">{{ i18n.t('pricing.groups.added-by') }}</th>
                @if (canManage()) {
                  <th scope="col">{{ i18n.t('pricing.actions') }}</th>
                }
              </tr>
            </thead>
            <tbody>
              @for (m of members(); track m.customer_id) {
                <tr>
                  <td>{{ customerLabel(m.customer_id) }}</td>
                  <td>{{ when(m.added_at) }}</td>
                  <td>{{ m.added_by }}</td>
                  @if (canManage()) {
                    <td>
                      <button
                        type="button"
                        class="button secondary"
                        (click)="removeMember(group, m)"
                        [attr.aria-label]="
                          i18n.t('pricing.groups.remove-member', { name: customerLabel(m.customer_id) })
                        "
                      >
                        {{ i18n.t('pricing.groups.remove') }}
                      </button>
                    </td>
                  }
                </tr>
              } @empty {
                <tr>
                  <td [attr.colspan]="canManage() ? 4 : 3">
                    {{ i18n.t(membersLoading() ? 'common.loading' : 'pricing.groups.no-members') }}
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
        <div class="row">
          @if (membersCursor()) {
            <button type="button" class="button secondary" (click)="loadMembers(group, true)">
              {{ i18n.t('pricing.groups.more-members') }}
            </button>
          }
          <button type="button" class="button secondary" (click)="closeMembers()">
            {{ i18n.t('pricing.groups.close-members') }}
          </button>
        </div>
      </section>
    }

    @if (canManage()) {
      <section class="card" aria-labelledby="group-form-title">
        <h2 id="group-form-title">
          {{ editing() ? i18n.t('pricing.edit-named', { name: editing()!.name }) : i18n.t('pricing.groups.new') }}
        </h2>
        <agora-problem-alert [problem]="groupProblem()" [placed]="groupPlaced" (reload)="load()" />
        <form (ngSubmit)="saveGroup()" novalidate>
          <div class="grid-3">
            <div class="field">
              <label for="group-name">{{ i18n.t('pricing.groups.name') }}</label>
              <input
                id="group-name"
                name="name"
                maxlength="200"
                [ngModel]="form().name"
                (ngModelChange)="nameChanged($event)"
              />
              <agora-field-error [problem]="groupProblem()" field="name" for="group-name" />
            </div>
            <div class="field">
              <label for="group-key">{{ i18n.t('pricing.groups.key') }}</label>
              <input
                id="group-key"
                name="key"
                maxlength="40"
                autocomplete="off"
                [ngModel]="form().key"
                (ngModelChange)="keyChanged($event)"
                aria-describedby="group-key-hint group-key-error"
              />
              <p class="hint" id="group-key-hint">{{ i18n.t('pricing.groups.key-hint') }}</p>
              <agora-field-error [problem]="groupProblem()" field="key" for="group-key" />
            </div>
            <div class="field">
              <label for="group-domains">{{ i18n.t('pricing.groups.domains-optional') }}</label>
              <input
                id="group-domains"
                name="email_domains"
                autocomplete="off"
                [(ngModel)]="form().domains"
                aria-describedby="group-domains-hint group-domains-error"
              />
              <p class="hint" id="group-domains-hint">{{ i18n.t('pricing.groups.domains-hint') }}</p>
              @if (domainsError(); as message) {
                <p class="field-error" id="group-domains-error">{{ message }}</p>
              }
            </div>
          </div>
          <div class="row form-actions">
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t(editing() ? 'pricing.save' : 'pricing.groups.create') }}
            </button>
            @if (editing()) {
              <button type="button" class="button secondary" (click)="closeGroup()">
                {{ i18n.t('common.cancel') }}
              </button>
            }
          </div>
        </form>
      </section>
    }`,
})
export class CustomerGroupsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('customers.manage'));
  protected readonly groups = signal<CustomerGroup[]>([]);
  protected readonly groupsCursor = signal<string | null>(null);
  protected readonly loading = signal(true);
  protected readonly busy = signal(false);
  protected readonly notice = signal('');
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly groupProblem = signal<Problem | null>(null);
  protected readonly memberProblem = signal<Problem | null>(null);
  protected readonly editing = signal<CustomerGroup | null>(null);
  protected readonly form = signal<GroupForm>(emptyGroup());
  protected readonly membersOf = signal<CustomerGroup | null>(null);
  protected readonly members = signal<Member[]>([]);
  protected readonly membersCursor = signal<string | null>(null);
  protected readonly membersLoading = signal(false);
  /** Customers' emails (or names) by id, looked up for the members table. */
  protected readonly customers = signal<ReadonlyMap<string, string>>(new Map());
  protected readonly groupPlaced = GROUP_PLACED;
  protected memberText = '';
  /** Whether the key was typed by hand (else it follows the name while creating). */
  private keyTyped = false;

  constructor() {
    this.i18n.register(PRICING_GROUPS);
  }

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected customerLabel(id: string): string {
    return this.customers().get(id) ?? id;
  }

  /** The domains' own message, or the first about one of them. */
  protected domainsError(): string | null {
    const p = this.groupProblem();
    return (
      fieldMessage(p, 'email_domains') ?? p?.errors?.find((e) => e.field.startsWith('email_domains['))?.message ?? null
    );
  }

  protected nameChanged(name: string): void {
    this.form.update((f) => ({ ...f, name, key: this.editing() || this.keyTyped ? f.key : keyFrom(name) }));
  }

  protected keyChanged(key: string): void {
    this.keyTyped = key !== '';
    this.form.update((f) => ({ ...f, key }));
  }

  // --- groups ---

  async load(): Promise<void> {
    const result = await outcome(listCustomerGroups({ query: { limit: 100 } }));
    this.loading.set(false);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.listProblem.set(null);
    this.groups.set(result.data.items);
    this.groupsCursor.set(result.data.next_cursor ?? null);
    const open = this.membersOf();
    if (open) this.membersOf.set(result.data.items.find((g) => g.id === open.id) ?? open);
  }

  protected async loadMoreGroups(): Promise<void> {
    const cursor = this.groupsCursor();
    if (!cursor) return;
    const result = await outcome(listCustomerGroups({ query: { limit: 100, cursor } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.groups.update((g) => [...g, ...result.data.items]);
    this.groupsCursor.set(result.data.next_cursor ?? null);
  }

  protected editGroup(g: CustomerGroup): void {
    this.editing.set(g);
    this.form.set(groupForm(g));
    this.groupProblem.set(null);
    setTimeout(() => document.getElementById('group-name')?.focus());
  }

  protected closeGroup(): void {
    this.editing.set(null);
    this.form.set(emptyGroup());
    this.keyTyped = false;
    this.groupProblem.set(null);
  }

  protected async saveGroup(): Promise<void> {
    const f = this.form();
    const editing = this.editing();
    this.busy.set(true);
    const result = editing
      ? await outcome(
          updateCustomerGroup({
            path: { group_id: editing.id },
            headers: ifMatch(editing.version),
            body: groupPatch(f, editing),
          }),
        )
      : await outcome(createCustomerGroup({ body: newGroupBody(f) }));
    this.busy.set(false);
    if (!result.ok) {
      this.groupProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.saved', { name: result.data.name }));
    this.closeGroup();
    await this.load();
  }

  protected async removeGroup(g: CustomerGroup): Promise<void> {
    if (!confirm(this.i18n.t('pricing.groups.confirm-delete', { name: g.name }))) return;
    const result = await outcome(deleteCustomerGroup({ path: { group_id: g.id }, headers: ifMatch(g.version) }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    this.notice.set(this.i18n.t('pricing.deleted', { name: g.name }));
    if (this.membersOf()?.id === g.id) this.closeMembers();
    if (this.editing()?.id === g.id) this.closeGroup();
    await this.load();
  }

  // --- members ---

  protected async openMembers(g: CustomerGroup): Promise<void> {
    this.membersOf.set(g);
    this.memberProblem.set(null);
    this.memberText = '';
    await this.loadMembers(g, false);
    setTimeout(() => document.getElementById('group-members-title')?.scrollIntoView());
  }

  protected closeMembers(): void {
    this.membersOf.set(null);
    this.members.set([]);
    this.membersCursor.set(null);
  }

  protected async reloadMembers(): Promise<void> {
    const group = this.membersOf();
    if (group) await this.loadMembers(group, false);
  }

  protected async loadMembers(g: CustomerGroup, more: boolean): Promise<void> {
    this.membersLoading.set(true);
    const cursor = more ? (this.membersCursor() ?? undefined) : undefined;
    const result = await outcome(
      listCustomerGroupMembers({ path: { group_id: g.id }, query: { limit: 50, ...(cursor ? { cursor } : {}) } }),
    );
    this.membersLoading.set(false);
    if (!result.ok) {
      this.memberProblem.set(result.problem);
      return;
    }
    this.members.update((m) => (more ? [...m, ...result.data.items] : result.data.items));
    this.membersCursor.set(result.data.next_cursor ?? null);
    await this.lookUp(result.data.items.map((m) => m.customer_id));
  }

  /** The emails of customers not looked up yet (the members list names them by id only). */
  private async lookUp(ids: string[]): Promise<void> {
    const known = this.customers();
    const missing = ids.filter((id) => !known.has(id));
    const found = await Promise.all(
      missing.map(async (id) => {
        const result = await outcome(getCustomer({ path: { id } }));
        const label = result.ok ? (result.data.email ?? result.data.name ?? null) : null;
        return [id, label] as const;
      }),
    );
    const next = new Map(this.customers());
    for (const [id, label] of found) if (label) next.set(id, label);
    this.customers.set(next);
  }

  protected async addMember(): Promise<void> {
    const group = this.membersOf();
    if (!group) return;
    const target = memberTarget(this.memberText);
    if (!target) {
      this.memberProblem.set(localProblem('member', this.i18n.t('pricing.groups.member-expected')));
      return;
    }
    this.busy.set(true);
    let customerId: string;
    let label: string;
    if ('id' in target) {
      customerId = target.id;
      label = target.id;
    } else {
      const search = await outcome(listCustomers({ query: { q: target.email, limit: 100 } }));
      if (!search.ok) {
        this.busy.set(false);
        this.memberProblem.set(search.problem);
        return;
      }
      const customer = withEmail(search.data.items, target.email);
      if (!customer) {
        this.busy.set(false);
        this.memberProblem.set(
          localProblem('member', this.i18n.t('pricing.groups.no-such-customer', { email: target.email })),
        );
        return;
      }
      customerId = customer.id;
      label = customer.email ?? customer.id;
    }
    const result = await outcome(addCustomerGroupMember({ path: { group_id: group.id, customer_id: customerId } }));
    this.busy.set(false);
    if (!result.ok) {
      this.memberProblem.set(
        result.status === 404 && 'id' in target
          ? localProblem('member', this.i18n.t('pricing.groups.unknown-customer'))
          : result.problem,
      );
      return;
    }
    this.memberProblem.set(null);
    this.memberText = '';
    this.notice.set(this.i18n.t('pricing.groups.added', { customer: label, name: group.name }));
    await Promise.all([this.loadMembers(group, false), this.load()]);
  }

  protected async removeMember(group: CustomerGroup, m: Member): Promise<void> {
    const label = this.customerLabel(m.customer_id);
    if (!confirm(this.i18n.t('pricing.groups.confirm-remove', { customer: label, name: group.name }))) return;
    const result = await outcome(
      removeCustomerGroupMember({ path: { group_id: group.id, customer_id: m.customer_id } }),
    );
    if (!result.ok) {
      this.memberProblem.set(result.problem);
      return;
    }
    this.memberProblem.set(null);
    this.notice.set(this.i18n.t('pricing.groups.removed', { customer: label, name: group.name }));
    await Promise.all([this.loadMembers(group, false), this.load()]);
  }
}
