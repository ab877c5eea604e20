import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import {
  I18n,
  ProblemAlert,
  createSearchSynonyms,
  deleteSearchSynonyms,
  listSearchSynonyms,
  outcome,
  setSoldCurrencies,
  type Problem,
  type Synonyms,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CatalogShop, words } from './catalog-support';

/** Error of a list's item (`currencies[1]`) or of the list itself, whichever the API named. */
function listError(problem: Problem | null, field: string): string | null {
  return (problem?.errors ?? []).find((e) => e.field === field || e.field.startsWith(`${field}[`))?.message ?? null;
}

/** The currencies prices are given in, and the words search treats as the same. */
@Component({
  selector: 'admin-catalog-settings',
  imports: [FormsModule, ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('nav.catalog-settings') }}</h1>
    <section class="card" aria-labelledby="currencies-title">
      <h2 id="currencies-title">{{ i18n.t('catalog.settings.currencies') }}</h2>
      <p>
        {{ i18n.t('catalog.settings.currencies-intro', { currency: shop.defaultCurrency() }) }}
      </p>
      @if (currenciesSaved()) {
        <p class="notice" role="status">{{ i18n.t('catalog.settings.currencies-saved') }}</p>
      }
      <agora-problem-alert [problem]="currencyProblem()" [placed]="currencyProblemFields()" />
      <!-- The form waits for the shop's currencies: typing earlier would be overwritten by them. -->
      @if (ready()) {
        <form (ngSubmit)="saveCurrencies()" novalidate aria-labelledby="currencies-title">
          <fieldset class="plain" [disabled]="!canManage()">
            <div class="field">
              <label for="currencies">{{ i18n.t('catalog.settings.other-currencies') }}</label>
              <p class="hint" id="currencies-hint">{{ i18n.t('catalog.settings.currencies-hint') }}</p>
              <input
                id="currencies"
                name="currencies"
                [(ngModel)]="currencies"
                [attr.aria-invalid]="!!currencyError()"
                [attr.aria-describedby]="currencyError() ? 'currencies-hint currencies-error' : 'currencies-hint'"
              />
              @if (currencyError(); as message) {
                <p class="field-error" id="currencies-error">{{ message }}</p>
              }
            </div>
          </fieldset>
          @if (canManage()) {
            <button class="button" type="submit" [disabled]="busy()">
              {{ i18n.t('catalog.settings.save-currencies') }}
            </button>
          }
        </form>
      } @else {
        <p role="status">{{ i18n.t('catalog.products.loading') }}</p>
      }
    </section>

    <section class="card" aria-labelledby="synonyms-title">
      <h2 id="synonyms-title">{{ i18n.t('catalog.settings.synonyms') }}</h2>
      <p>{{ i18n.t('catalog.settings.synonyms-intro') }}</p>
      <agora-problem-alert [problem]="listProblem()" />
      <ul class="plain-list synonyms">
        @for (group of synonyms(); track group.id) {
          <li class="row spread">
            <span>{{ group.terms.join(' = ') }}</span>
            @if (canManage()) {
              <button
                type="button"
                class="link-button"
                (click)="removeGroup(group)"
                [attr.aria-label]="i18n.t('catalog.settings.delete-synonyms', { terms: group.terms.join(', ') })"
              >
                {{ i18n.t('catalog.delete') }}
              </button>
            }
          </li>
        } @empty {
          <li>{{ i18n.t('catalog.settings.no-synonyms') }}</li>
        }
      </ul>
      @if (canManage()) {
        <agora-problem-alert [problem]="synonymProblem()" [placed]="synonymProblemFields()" />
        <form
          (ngSubmit)="addGroup()"
          novalidate
          [attr.aria-label]="i18n.t('catalog.settings.add-synonyms')"
          class="row"
        >
          <div class="field grow">
            <label for="synonym-terms">{{ i18n.t('catalog.settings.synonym-terms') }}</label>
            <input
              id="synonym-terms"
              name="terms"
              [(ngModel)]="terms"
              [attr.aria-invalid]="!!synonymError()"
              [attr.aria-describedby]="synonymError() ? 'synonym-terms-error' : null"
            />
            @if (synonymError(); as message) {
              <p class="field-error" id="synonym-terms-error">{{ message }}</p>
            }
          </div>
          <button class="button" type="submit">{{ i18n.t('catalog.settings.add-synonyms') }}</button>
        </form>
      }
    </section> `,
})
export class CatalogSettingsPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('catalog.manage'));
  protected readonly currencies = signal('');
  protected readonly terms = signal('');
  protected readonly synonyms = signal<Synonyms[]>([]);
  protected readonly currencyProblem = signal<Problem | null>(null);
  protected readonly synonymProblem = signal<Problem | null>(null);
  protected readonly listProblem = signal<Problem | null>(null);
  protected readonly currenciesSaved = signal(false);
  protected readonly busy = signal(false);
  protected readonly ready = signal(false);
  protected readonly currencyError = computed(() => listError(this.currencyProblem(), 'currencies'));
  protected readonly synonymError = computed(() => listError(this.synonymProblem(), 'terms'));
  protected readonly currencyProblemFields = computed(() =>
    (this.currencyProblem()?.errors ?? []).map((e) => e.field).filter((f) => f.startsWith('currencies')),
  );
  protected readonly synonymProblemFields = computed(() =>
    (this.synonymProblem()?.errors ?? []).map((e) => e.field).filter((f) => f.startsWith('terms')),
  );

  async ngOnInit(): Promise<void> {
    await this.shop.reload();
    this.currencies.set(this.others().join(', '));
    this.ready.set(true);
    await this.loadSynonyms();
  }

  private others(): string[] {
    return this.shop.currencies().filter((c) => c !== this.shop.defaultCurrency());
  }

  protected async saveCurrencies(): Promise<void> {
    this.busy.set(true);
    this.currenciesSaved.set(false);
    const list = words(this.currencies()).map((c) => c.toUpperCase());
    const result = await outcome(setSoldCurrencies({ body: { currencies: list } }));
    this.busy.set(false);
    if (!result.ok) {
      this.currencyProblem.set(result.problem);
      return;
    }
    this.currencyProblem.set(null);
    this.currenciesSaved.set(true);
    await this.shop.reload();
    this.currencies.set(this.others().join(', '));
  }

  private async loadSynonyms(): Promise<void> {
    const result = await outcome(listSearchSynonyms());
    if (result.ok) this.synonyms.set(result.data);
    else this.listProblem.set(result.problem);
  }

  protected async addGroup(): Promise<void> {
    const result = await outcome(createSearchSynonyms({ body: { terms: words(this.terms()) } }));
    if (!result.ok) {
      this.synonymProblem.set(result.problem);
      return;
    }
    this.synonymProblem.set(null);
    this.terms.set('');
    await this.loadSynonyms();
  }

  protected async removeGroup(group: Synonyms): Promise<void> {
    const result = await outcome(deleteSearchSynonyms({ path: { synonyms_id: group.id } }));
    if (!result.ok) {
      this.listProblem.set(result.problem);
      return;
    }
    await this.loadSynonyms();
  }
}
