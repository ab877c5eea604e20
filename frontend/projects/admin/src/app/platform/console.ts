import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  FieldError,
  ProblemAlert,
  createTenant,
  fieldMessage,
  listTenants,
  outcome,
  resumeTenant,
  suspendTenant,
  type Problem,
  type Tenant,
} from 'shared';

/** The operators' view of every shop: open one for its owner, suspend it, resume it (inside the console's frame). */
@Component({
  selector: 'admin-platform-console',
  imports: [FormsModule, FieldError, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('platform.shops') }}</h1>
    <agora-problem-alert [problem]="listProblem()" (reload)="load()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('platform.shops')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('platform.shop') }}</th>
            <th scope="col">{{ i18n.t('platform.address') }}</th>
            <th scope="col">{{ i18n.t('platform.status') }}</th>
            <th scope="col">{{ i18n.t('admin.actions') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (shop of shops(); track shop.id) {
            <tr>
              <td>{{ shop.name }}</td>
              <td>{{ shop.slug }}</td>
              <td>{{ i18n.t('platform.status.' + shop.status) }}</td>
              <td>
                @if (shop.status === 'active') {
                  <button
                    type="button"
                    class="button danger"
                    (click)="suspend(shop)"
                    [attr.aria-label]="i18n.t('platform.suspend-named', { name: shop.name })"
                  >
                    {{ i18n.t('platform.suspend') }}
                  </button>
                } @else if (shop.status === 'suspended') {
                  <button
                    type="button"
                    class="button secondary"
                    (click)="resume(shop)"
                    [attr.aria-label]="i18n.t('platform.resume-named', { name: shop.name })"
                  >
                    {{ i18n.t('platform.resume') }}
                  </button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
    <h2 id="shop-title">{{ i18n.t('platform.open-title') }}</h2>
    @if (opened(); as shop) {
      <p class="notice" role="status">
        {{ i18n.t(shop.owner ? 'console.shops.opened-invited' : 'console.shops.opened', shop) }}
      </p>
    }
    <agora-problem-alert [problem]="problem()" [placed]="placed" />
    <form (ngSubmit)="create()" novalidate aria-labelledby="shop-title">
      @for (f of formFields; track f.field) {
        <div class="field">
          <label [for]="f.id">{{ i18n.t(f.label) }}</label>
          <input
            [id]="f.id"
            [name]="f.id"
            [type]="f.type"
            [ngModel]="values()[f.id]"
            (ngModelChange)="set(f.id, $event)"
            [attr.aria-invalid]="!!error(f.field)"
            [attr.aria-describedby]="error(f.field) ? f.id + '-error' : null"
          />
          <agora-field-error [problem]="problem()" [field]="f.field" [for]="f.id" />
        </div>
      }
      <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('platform.open') }}</button>
    </form>`,
})
export class PlatformConsole implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly formFields = [
    { id: 'shop-slug', field: 'slug', label: 'platform.field.slug', type: 'text' },
    { id: 'shop-name', field: 'name', label: 'admin.field.name', type: 'text' },
    { id: 'shop-currency', field: 'default_currency', label: 'platform.field.currency', type: 'text' },
    { id: 'owner-email', field: 'owner.email', label: 'platform.field.owner-email', type: 'email' },
    { id: 'owner-name', field: 'owner.name', label: 'platform.field.owner-name', type: 'text' },
  ];
  protected readonly placed = this.formFields.map((f) => f.field);
  protected readonly values = signal<Record<string, string>>({});
  protected readonly shops = signal<Tenant[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  /** The shop opened last, for the confirmation. */
  protected readonly opened = signal<{ name: string; owner: string } | null>(null);

  async ngOnInit(): Promise<void> {
    await this.load();
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected set(id: string, value: string): void {
    this.values.update((v) => ({ ...v, [id]: value }));
  }

  protected async create(): Promise<void> {
    const v = this.values();
    const ownerEmail = v['owner-email']?.trim();
    this.busy.set(true);
    this.opened.set(null);
    const result = await outcome(
      createTenant({
        body: {
          slug: v['shop-slug'] ?? '',
          name: v['shop-name'] ?? '',
          default_currency: v['shop-currency'] || null,
          domains: [],
          owner: ownerEmail ? { email: ownerEmail, name: v['owner-name'] || null } : null,
        },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.opened.set({ name: result.data.name, owner: ownerEmail ?? '' });
    this.values.set({});
    await this.load();
  }

  protected async suspend(shop: Tenant): Promise<void> {
    await this.act(suspendTenant({ path: { slug: shop.slug }, headers: { 'If-Match': `"${shop.version}"` } }));
  }

  protected async resume(shop: Tenant): Promise<void> {
    await this.act(resumeTenant({ path: { slug: shop.slug }, headers: { 'If-Match': `"${shop.version}"` } }));
  }

  protected async load(): Promise<void> {
    const result = await outcome(listTenants({ query: { limit: 100 } }));
    if (result.ok) {
      this.listProblem.set(null);
      this.shops.set(result.data.items);
    } else {
      this.listProblem.set(result.problem);
    }
  }

  private async act(call: Promise<{ data?: unknown; error?: unknown; response?: Response }>): Promise<void> {
    const result = await outcome(call);
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    await this.load();
  }
}
