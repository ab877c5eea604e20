import { ChangeDetectionStrategy, Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  addVariant,
  createProduct,
  deleteProduct,
  deleteVariant,
  fieldMessage,
  getProduct,
  listCategories,
  listProductChanges,
  listProductTypes,
  outcome,
  updateProduct,
  updateVariant,
  type Category,
  type Problem,
  type Product,
  type Page_ProductChange_,
  type ProductType,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { CATALOG_PRODUCT } from '../../texts/catalog-product';
import { when } from '../../texts/when';
import { CatalogShop, ifMatch, languageName, pick, words } from './catalog-support';
import {
  type ProductForm,
  type VariantRow,
  emptyForm,
  emptyVariant,
  formOf,
  localProblems,
  newProductBody,
  placeVariantErrors,
  productPatch,
  variantBody,
  variantPatch,
} from './product-form';
import { ProductMediaSection } from './product-media';

type Tab = 'details' | 'history';
type ProductChange = Page_ProductChange_['items'][number];
type Attribute = ProductType['attributes'][number];

/**
 * One product, new or existing: texts per language, publication, type and attributes,
 * categories and tags, options and the variants grid with prices per currency. Saving sends
 * the version the form was loaded with; a 412 means someone else saved first.
 */
@Component({
  selector: 'admin-product-editor',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert, ProductMediaSection],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<p>
      <a routerLink="/products">{{ i18n.t('catalog.editor.back') }}</a>
    </p>
    <div class="row spread">
      <h1>{{ heading() }}</h1>
      @if (product(); as p) {
        <span [class]="'badge status-' + p.status">{{ i18n.t('catalog.status.' + p.status) }}</span>
      }
    </div>
    @if (id()) {
      <div class="tab-list" role="tablist" [attr.aria-label]="i18n.t('catalog.editor.sections')">
        <button
          type="button"
          role="tab"
          id="tab-details"
          [attr.aria-controls]="tab() === 'details' && form() ? 'panel-details' : null"
          [attr.aria-selected]="tab() === 'details'"
          [attr.tabindex]="tab() === 'details' ? 0 : -1"
          (click)="show('details')"
          (keydown.arrowRight)="show('history', true)"
        >
          {{ i18n.t('catalog.editor.tab.details') }}
        </button>
        <button
          type="button"
          role="tab"
          id="tab-history"
          [attr.aria-controls]="tab() === 'history' ? 'panel-history' : null"
          [attr.aria-selected]="tab() === 'history'"
          [attr.tabindex]="tab() === 'history' ? 0 : -1"
          (click)="show('history')"
          (keydown.arrowLeft)="show('details', true)"
        >
          {{ i18n.t('catalog.editor.tab.history') }}
        </button>
      </div>
    }
    @if (saved() && tab() === 'details') {
      <p class="notice" role="status">{{ i18n.t('common.saved') }}</p>
    }
    @if (tab() === 'history') {
      <section role="tabpanel" id="panel-history" aria-labelledby="tab-history">
        <agora-problem-alert [problem]="historyProblem()" />
        <ol class="history plain-list">
          @for (change of history(); track change.id) {
            <li class="card">
              <p>
                <strong>{{ actionLabel(change.action) }}</strong>
                · <time [attr.datetime]="change.changed_at">{{ when(change.changed_at) }}</time> ·
                {{ who(change.changed_by) }}
              </p>
              @if (changeLines(change).length) {
                <ul>
                  @for (line of changeLines(change); track $index) {
                    <li>{{ line }}</li>
                  }
                </ul>
              }
            </li>
          } @empty {
            <li>{{ i18n.t('catalog.editor.history.none') }}</li>
          }
        </ol>
        @if (historyCursor()) {
          <button type="button" class="button secondary" (click)="loadHistory()">
            {{ i18n.t('catalog.editor.history.older') }}
          </button>
        }
      </section>
    } @else if (form(); as f) {
      <section role="tabpanel" id="panel-details" [attr.aria-labelledby]="id() ? 'tab-details' : null">
        <agora-problem-alert [problem]="problem()" [placed]="placed()" (reload)="reload()" />
        <form (ngSubmit)="save()" novalidate [attr.aria-label]="i18n.t('catalog.editor.product')">
          <fieldset [disabled]="!canManage()" class="plain">
            <section class="card" aria-labelledby="texts-title">
              <h2 id="texts-title">{{ i18n.t('catalog.editor.texts') }}</h2>
              <div class="tab-list" role="tablist" [attr.aria-label]="i18n.t('catalog.editor.languages')">
                @for (locale of shop.locales(); track locale) {
                  <button
                    type="button"
                    role="tab"
                    [id]="'locale-tab-' + locale"
                    aria-controls="locale-panel"
                    [attr.aria-selected]="locale === activeLocale()"
                    [attr.tabindex]="locale === activeLocale() ? 0 : -1"
                    (click)="activeLocale.set(locale)"
                    (keydown.arrowRight)="stepLocale(1)"
                    (keydown.arrowLeft)="stepLocale(-1)"
                  >
                    {{ localeLabel(locale) }}
                    @if (localeHasErrors(locale)) {
                      <span aria-hidden="true">⚠</span
                      ><span class="visually-hidden">{{ i18n.t('catalog.editor.has-errors') }}</span>
                    }
                  </button>
                }
              </div>
              @let l = activeLocale();
              <div role="tabpanel" id="locale-panel" [attr.aria-labelledby]="'locale-tab-' + l" [attr.lang]="l">
                <div class="field">
                  <label [for]="'name-' + l">{{ i18n.t('catalog.editor.name') }}</label>
                  <input
                    [id]="'name-' + l"
                    [name]="'name-' + l"
                    [(ngModel)]="f.name[l]"
                    [attr.aria-invalid]="!!error('name.' + l) || !!error('name')"
                    [attr.aria-describedby]="describedBy('name-' + l, 'name.' + l)"
                  />
                  <agora-field-error [problem]="problem()" [field]="'name.' + l" [for]="'name-' + l" />
                  @if (l === shop.defaultLocale()) {
                    <agora-field-error [problem]="problem()" field="name" for="name" />
                  }
                </div>
                <div class="field">
                  <label [for]="'description-' + l">{{ i18n.t('catalog.editor.description') }}</label>
                  <textarea
                    [id]="'description-' + l"
                    [name]="'description-' + l"
                    rows="5"
                    [(ngModel)]="f.description[l]"
                    [attr.aria-invalid]="!!error('description.' + l)"
                    [attr.aria-describedby]="describedBy('description-' + l, 'description.' + l)"
                  ></textarea>
                  <agora-field-error [problem]="problem()" [field]="'description.' + l" [for]="'description-' + l" />
                </div>
                <div class="field">
                  <label [for]="'slug-' + l">{{ i18n.t('catalog.editor.slug') }}</label>
                  <p class="hint" [id]="'slug-' + l + '-hint'">{{ i18n.t('catalog.editor.slug-hint') }}</p>
                  <input
                    [id]="'slug-' + l"
                    [name]="'slug-' + l"
                    [(ngModel)]="f.slug[l]"
                    [attr.aria-invalid]="!!error('slug.' + l)"
                    [attr.aria-describedby]="describedBy('slug-' + l, 'slug.' + l, true)"
                  />
                  <agora-field-error [problem]="problem()" [field]="'slug.' + l" [for]="'slug-' + l" />
                </div>
                <div class="field">
                  <label [for]="'seo-title-' + l">{{ i18n.t('catalog.editor.seo-title') }}</label>
                  <input
                    [id]="'seo-title-' + l"
                    [name]="'seo-title-' + l"
                    [(ngModel)]="f.seoTitle[l]"
                    [attr.aria-invalid]="!!error('seo_title.' + l)"
                    [attr.aria-describedby]="describedBy('seo-title-' + l, 'seo_title.' + l)"
                  />
                  <agora-field-error [problem]="problem()" [field]="'seo_title.' + l" [for]="'seo-title-' + l" />
                </div>
                <div class="field">
                  <label [for]="'seo-description-' + l">{{ i18n.t('catalog.editor.seo-description') }}</label>
                  <textarea
                    [id]="'seo-description-' + l"
                    [name]="'seo-description-' + l"
                    rows="2"
                    [(ngModel)]="f.seoDescription[l]"
                    [attr.aria-invalid]="!!error('seo_description.' + l)"
                    [attr.aria-describedby]="describedBy('seo-description-' + l, 'seo_description.' + l)"
                  ></textarea>
                  <agora-field-error
                    [problem]="problem()"
                    [field]="'seo_description.' + l"
                    [for]="'seo-description-' + l"
                  />
                </div>
              </div>
            </section>

            <section class="card" aria-labelledby="publication-title">
              <h2 id="publication-title">{{ i18n.t('catalog.editor.publication') }}</h2>
              <div class="grid-3">
                <div class="field">
                  <label for="status">{{ i18n.t('catalog.editor.status') }}</label>
                  <select
                    id="status"
                    name="status"
                    [(ngModel)]="f.status"
                    [attr.aria-describedby]="describedBy('status', 'status')"
                  >
                    <option value="draft">{{ i18n.t('catalog.editor.status.draft') }}</option>
                    <option value="active">{{ i18n.t('catalog.status.active') }}</option>
                    <option value="archived">{{ i18n.t('catalog.status.archived') }}</option>
                  </select>
                  <agora-field-error [problem]="problem()" field="status" for="status" />
                </div>
                <div class="field">
                  <label for="publish-at">{{ i18n.t('catalog.editor.visible-from') }}</label>
                  <input
                    id="publish-at"
                    name="publish-at"
                    type="datetime-local"
                    [(ngModel)]="f.publishAt"
                    [attr.aria-describedby]="describedBy('publish-at', 'publish_at')"
                  />
                  <agora-field-error [problem]="problem()" field="publish_at" for="publish-at" />
                </div>
                <div class="field">
                  <label for="unpublish-at">{{ i18n.t('catalog.editor.visible-until') }}</label>
                  <input
                    id="unpublish-at"
                    name="unpublish-at"
                    type="datetime-local"
                    [(ngModel)]="f.unpublishAt"
                    [attr.aria-describedby]="describedBy('unpublish-at', 'unpublish_at')"
                  />
                  <agora-field-error [problem]="problem()" field="unpublish_at" for="unpublish-at" />
                </div>
              </div>
              <div class="field">
                <label for="kind">{{ i18n.t('catalog.editor.kind') }}</label>
                <select id="kind" name="kind" [(ngModel)]="f.kind">
                  <option value="physical">{{ i18n.t('catalog.editor.kind.physical') }}</option>
                  <option value="digital">{{ i18n.t('catalog.editor.kind.digital') }}</option>
                </select>
              </div>
            </section>

            <section class="card" aria-labelledby="organisation-title">
              <h2 id="organisation-title">{{ i18n.t('catalog.editor.organisation') }}</h2>
              <div class="field">
                <label for="product-type">{{ i18n.t('catalog.editor.product-type') }}</label>
                <select
                  id="product-type"
                  name="product-type"
                  [(ngModel)]="f.productTypeId"
                  [attr.aria-describedby]="describedBy('product-type', 'product_type_id')"
                >
                  <option value="">{{ i18n.t('catalog.editor.no-type') }}</option>
                  @for (t of types(); track t.id) {
                    <option [value]="t.id">{{ t.name }}</option>
                  }
                </select>
                <agora-field-error [problem]="problem()" field="product_type_id" for="product-type" />
              </div>
              @for (a of attributesOf(f.productTypeId); track a.code) {
                @let field = 'attributes.' + a.code;
                @let inputId = 'attribute-' + a.code;
                @switch (a.kind) {
                  @case ('boolean') {
                    <div class="field">
                      <label class="inline">
                        <input
                          type="checkbox"
                          [id]="inputId"
                          [name]="inputId"
                          [(ngModel)]="f.attributes[a.code]"
                          [attr.aria-describedby]="describedBy(inputId, field)"
                        />
                        {{ attributeName(a) }}
                      </label>
                      <agora-field-error [problem]="problem()" [field]="field" [for]="inputId" />
                    </div>
                  }
                  @case ('select') {
                    <div class="field">
                      <label [for]="inputId">{{ attributeName(a) }}</label>
                      <select
                        [id]="inputId"
                        [name]="inputId"
                        [(ngModel)]="f.attributes[a.code]"
                        [attr.aria-invalid]="!!error(field)"
                        [attr.aria-describedby]="describedBy(inputId, field)"
                      >
                        <option value="">—</option>
                        @for (o of a.options; track o) {
                          <option [value]="o">{{ o }}</option>
                        }
                      </select>
                      <agora-field-error [problem]="problem()" [field]="field" [for]="inputId" />
                    </div>
                  }
                  @case ('multi_select') {
                    <fieldset class="checks" [attr.aria-describedby]="error(field) ? inputId + '-error' : null">
                      <legend>{{ attributeName(a) }}</legend>
                      @for (o of a.options; track o) {
                        <label>
                          <input
                            type="checkbox"
                            [checked]="chosen(f, a.code, o)"
                            (change)="toggleChoice(f, a.code, o)"
                          />
                          {{ o }}
                        </label>
                      }
                      <agora-field-error [problem]="problem()" [field]="field" [for]="inputId" />
                    </fieldset>
                  }
                  @default {
                    <div class="field">
                      <label [for]="inputId">{{ attributeName(a) }}</label>
                      <input
                        [id]="inputId"
                        [name]="inputId"
                        [type]="a.kind === 'number' ? 'number' : 'text'"
                        [(ngModel)]="f.attributes[a.code]"
                        [attr.aria-invalid]="!!error(field)"
                        [attr.aria-describedby]="describedBy(inputId, field)"
                      />
                      <agora-field-error [problem]="problem()" [field]="field" [for]="inputId" />
                    </div>
                  }
                }
              }
              <!-- It scrolls only while its boxes can take focus (a disabled form can't be scrolled by keyboard). -->
              <fieldset
                class="checks categories"
                [class.scrolls]="canManage()"
                [attr.aria-describedby]="error('category_ids') ? 'categories-error' : null"
              >
                <legend>{{ i18n.t('catalog.editor.categories') }}</legend>
                @for (c of categoryChoices(); track c.id) {
                  <label>
                    <input
                      type="checkbox"
                      [checked]="f.categoryIds.includes(c.id)"
                      (change)="toggleCategory(f, c.id)"
                    />
                    {{ c.label }}
                  </label>
                } @empty {
                  <p>{{ i18n.t('catalog.editor.no-categories') }}</p>
                }
                <agora-field-error [problem]="problem()" field="category_ids" for="categories" />
              </fieldset>
              <div class="field">
                <label for="tags">{{ i18n.t('catalog.editor.tags') }}</label>
                <p class="hint" id="tags-hint">{{ i18n.t('catalog.editor.tags-hint') }}</p>
                <input
                  id="tags"
                  name="tags"
                  [(ngModel)]="f.tags"
                  [attr.aria-invalid]="!!tagError()"
                  [attr.aria-describedby]="tagError() ? 'tags-hint tags-error' : 'tags-hint'"
                />
                @if (tagError(); as message) {
                  <p class="field-error" id="tags-error">{{ message }}</p>
                }
              </div>
            </section>

            <section class="card" aria-labelledby="options-title">
              <h2 id="options-title">{{ i18n.t('catalog.editor.options') }}</h2>
              <p class="hint">{{ i18n.t('catalog.editor.options-hint') }}</p>
              @for (o of f.options; track $index; let i = $index) {
                <div class="grid-option">
                  <div class="field">
                    <label [for]="'option-name-' + i">{{ i18n.t('catalog.editor.option-name', { n: i + 1 }) }}</label>
                    <input
                      [id]="'option-name-' + i"
                      [name]="'option-name-' + i"
                      [(ngModel)]="o.name"
                      [attr.aria-invalid]="!!error('options[' + i + '].name')"
                      [attr.aria-describedby]="describedBy('option-name-' + i, 'options[' + i + '].name')"
                    />
                    <agora-field-error
                      [problem]="problem()"
                      [field]="'options[' + i + '].name'"
                      [for]="'option-name-' + i"
                    />
                  </div>
                  <div class="field">
                    <label [for]="'option-values-' + i">{{ i18n.t('catalog.values-list') }}</label>
                    <input
                      [id]="'option-values-' + i"
                      [name]="'option-values-' + i"
                      [(ngModel)]="o.values"
                      [attr.aria-invalid]="!!optionValuesError(i)"
                      [attr.aria-describedby]="optionValuesError(i) ? 'option-values-' + i + '-error' : null"
                    />
                    @if (optionValuesError(i); as message) {
                      <p class="field-error" [id]="'option-values-' + i + '-error'">{{ message }}</p>
                    }
                  </div>
                  <button
                    type="button"
                    class="button secondary"
                    (click)="removeOption(f, i)"
                    [attr.aria-label]="i18n.t('catalog.editor.remove-option', { name: o.name || i + 1 })"
                  >
                    {{ i18n.t('catalog.remove') }}
                  </button>
                </div>
              }
              <button type="button" class="button secondary" (click)="addOption(f)">
                {{ i18n.t('catalog.editor.add-option') }}
              </button>
            </section>
          </fieldset>
          <section class="card" aria-labelledby="variants-title">
            <h2 id="variants-title">{{ i18n.t('catalog.editor.variants-title') }}</h2>
            <agora-field-error [problem]="problem()" field="variants" for="variants" />
            <!-- Focusable so the keyboard can scroll a grid wider than the screen. -->
            <div class="table-scroll" tabindex="0" role="region" aria-labelledby="variants-title">
              <table class="variants">
                <caption class="visually-hidden">
                  {{
                    i18n.t('catalog.editor.variants')
                  }}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{{ i18n.t('catalog.editor.sku') }}</th>
                    @for (o of f.options; track $index) {
                      <th scope="col">{{ o.name || i18n.t('catalog.editor.option') }}</th>
                    }
                    <th scope="col">{{ i18n.t('catalog.editor.barcode') }}</th>
                    <th scope="col">{{ i18n.t('catalog.editor.weight') }}</th>
                    @for (c of currencyColumns(f); track c) {
                      <th scope="col">{{ i18n.t('catalog.editor.price', { currency: c }) }}</th>
                      <th scope="col">{{ i18n.t('catalog.editor.compare-at', { currency: c }) }}</th>
                    }
                    <th scope="col">
                      <span class="visually-hidden">{{ i18n.t('catalog.actions') }}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  @for (v of f.variants; track v; let i = $index) {
                    @let at = 'variants[' + i + '].';
                    <tr>
                      <td>
                        <input
                          [disabled]="!canManage()"
                          [id]="'v' + i + '-sku'"
                          [name]="'v' + i + '-sku'"
                          class="sku"
                          [(ngModel)]="v.sku"
                          [attr.aria-label]="i18n.t('catalog.editor.sku-of', { n: i + 1 })"
                          [attr.aria-invalid]="!!error(at + 'sku')"
                          [attr.aria-describedby]="describedBy('v' + i + '-sku', at + 'sku')"
                        />
                        <agora-field-error [problem]="problem()" [field]="at + 'sku'" [for]="'v' + i + '-sku'" />
                      </td>
                      @for (o of f.options; track $index; let j = $index) {
                        <td>
                          <select
                            [disabled]="!canManage()"
                            [id]="'v' + i + '-option-' + j"
                            [name]="'v' + i + '-option-' + j"
                            [(ngModel)]="v.optionValues[o.name]"
                            [attr.aria-label]="
                              i18n.t('catalog.editor.option-of', {
                                option: o.name || i18n.t('catalog.editor.option-n', { n: j + 1 }),
                                n: i + 1,
                              })
                            "
                            [attr.aria-invalid]="!!error(at + 'option_values.' + o.name)"
                            [attr.aria-describedby]="
                              describedBy('v' + i + '-option-' + j, at + 'option_values.' + o.name)
                            "
                          >
                            <option value="">—</option>
                            @for (value of valuesOf(o.values); track value) {
                              <option [value]="value">{{ value }}</option>
                            }
                          </select>
                          <agora-field-error
                            [problem]="problem()"
                            [field]="at + 'option_values.' + o.name"
                            [for]="'v' + i + '-option-' + j"
                          />
                        </td>
                      }
                      <td>
                        <input
                          [disabled]="!canManage()"
                          [id]="'v' + i + '-barcode'"
                          [name]="'v' + i + '-barcode'"
                          [(ngModel)]="v.barcode"
                          [attr.aria-label]="i18n.t('catalog.editor.barcode-of', { n: i + 1 })"
                          [attr.aria-invalid]="!!error(at + 'barcode')"
                          [attr.aria-describedby]="describedBy('v' + i + '-barcode', at + 'barcode')"
                        />
                        <agora-field-error
                          [problem]="problem()"
                          [field]="at + 'barcode'"
                          [for]="'v' + i + '-barcode'"
                        />
                      </td>
                      <td>
                        <input
                          [disabled]="!canManage()"
                          [id]="'v' + i + '-weight'"
                          [name]="'v' + i + '-weight'"
                          class="number"
                          inputmode="numeric"
                          [(ngModel)]="v.weight"
                          [attr.aria-label]="i18n.t('catalog.editor.weight-of', { n: i + 1 })"
                          [attr.aria-invalid]="!!error(at + 'weight_grams')"
                          [attr.aria-describedby]="describedBy('v' + i + '-weight', at + 'weight_grams')"
                        />
                        <agora-field-error
                          [problem]="problem()"
                          [field]="at + 'weight_grams'"
                          [for]="'v' + i + '-weight'"
                        />
                      </td>
                      @for (c of currencyColumns(f); track c) {
                        @let price = priceOf(v, c);
                        <td>
                          <input
                            [disabled]="!canManage()"
                            [id]="'v' + i + '-price-' + c"
                            [name]="'v' + i + '-price-' + c"
                            class="number"
                            inputmode="decimal"
                            [(ngModel)]="price.amount"
                            [attr.aria-label]="i18n.t('catalog.editor.price-of', { currency: c, n: i + 1 })"
                            [attr.aria-invalid]="!!error(at + 'prices.' + c + '.amount')"
                            [attr.aria-describedby]="
                              describedBy('v' + i + '-price-' + c, at + 'prices.' + c + '.amount')
                            "
                          />
                          <agora-field-error
                            [problem]="problem()"
                            [field]="at + 'prices.' + c + '.amount'"
                            [for]="'v' + i + '-price-' + c"
                          />
                          <agora-field-error
                            [problem]="problem()"
                            [field]="at + 'prices.' + c + '.currency'"
                            [for]="'v' + i + '-price-' + c + '-currency'"
                          />
                        </td>
                        <td>
                          <input
                            [disabled]="!canManage()"
                            [id]="'v' + i + '-compare-' + c"
                            [name]="'v' + i + '-compare-' + c"
                            class="number"
                            inputmode="decimal"
                            [(ngModel)]="price.compareAt"
                            [attr.aria-label]="i18n.t('catalog.editor.compare-at-of', { currency: c, n: i + 1 })"
                            [attr.aria-invalid]="!!error(at + 'prices.' + c + '.compare_at')"
                            [attr.aria-describedby]="
                              describedBy('v' + i + '-compare-' + c, at + 'prices.' + c + '.compare_at')
                            "
                          />
                          <agora-field-error
                            [problem]="problem()"
                            [field]="at + 'prices.' + c + '.compare_at'"
                            [for]="'v' + i + '-compare-' + c"
                          />
                        </td>
                      }
                      <td>
                        <button
                          type="button"
                          class="button secondary"
                          (click)="removeVariant(f, i)"
                          [disabled]="!canManage() || f.variants.length === 1"
                          [attr.aria-label]="i18n.t('catalog.editor.remove-variant', { name: v.sku || i + 1 })"
                        >
                          {{ i18n.t('catalog.remove') }}
                        </button>
                      </td>
                    </tr>
                  }
                </tbody>
              </table>
            </div>
            <div class="row">
              <button type="button" class="button secondary" [disabled]="!canManage()" (click)="addVariant(f)">
                {{ i18n.t('catalog.editor.add-variant') }}
              </button>
              @if (f.options.length) {
                <button type="button" class="button secondary" [disabled]="!canManage()" (click)="addCombinations(f)">
                  {{ i18n.t('catalog.editor.add-combinations') }}
                </button>
              }
            </div>
          </section>
          @if (canManage()) {
            <div class="row form-actions">
              <button class="button" type="submit" [disabled]="busy()">
                {{ i18n.t(id() ? 'catalog.editor.save' : 'catalog.editor.create') }}
              </button>
              @if (product()) {
                <button type="button" class="button danger" (click)="remove()" [disabled]="busy()">
                  {{ i18n.t('catalog.editor.delete') }}
                </button>
              }
            </div>
          }
        </form>
        @if (product(); as p) {
          <admin-product-media [productId]="p.id" [canManage]="canManage()" (productVersion)="mediaChanged($event)" />
        }
      </section>
    } @else {
      <agora-problem-alert [problem]="problem()" />
      <p role="status">{{ i18n.t('common.loading') }}</p>
    }`,
})
export class ProductEditor implements OnInit {
  /** The product's id from the route; absent for a new product. */
  readonly id = input<string>();
  protected readonly shop = inject(CatalogShop);
  private readonly session = inject(StaffSession);
  private readonly router = inject(Router);
  /** Whether the page that sent us here just created the product (read while the navigation runs). */
  private readonly arrivedSaved = this.router.currentNavigation()?.extras.state?.['saved'] === true;
  protected readonly i18n = inject(I18n);
  protected readonly canManage = computed(() => this.session.can('catalog.manage'));
  protected readonly product = signal<Product | null>(null);
  protected readonly form = signal<ProductForm | null>(null);
  /** The form as last saved, to send only what changed. */
  private savedForm: ProductForm | null = null;
  protected readonly types = signal<ProductType[]>([]);
  protected readonly categories = signal<Category[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly busy = signal(false);
  protected readonly saved = signal(false);
  protected readonly tab = signal<Tab>('details');
  protected readonly activeLocale = signal('en');
  protected readonly history = signal<ProductChange[]>([]);
  protected readonly historyCursor = signal<string | null>(null);
  protected readonly historyProblem = signal<Problem | null>(null);
  protected readonly heading = computed(() => {
    const p = this.product();
    const product = this.i18n.t('catalog.editor.product');
    if (!this.id()) return this.i18n.t('catalog.editor.new');
    return p ? pick(p.name, this.shop.defaultLocale(), 'en') || product : product;
  });
  protected readonly categoryChoices = computed(() =>
    this.categories().map((c) => ({
      id: c.id,
      label: [...c.breadcrumbs.map((b) => b.name), pick(c.name, this.shop.defaultLocale(), 'en')].join(' › '),
    })),
  );
  /** Every field the form shows an error under; the banner lists the others. */
  protected readonly placed = computed(() => {
    const problem = this.problem();
    return (problem?.errors ?? []).map((e) => e.field).filter((field) => this.isPlaced(field));
  });

  constructor() {
    this.i18n.register(CATALOG_PRODUCT);
  }

  async ngOnInit(): Promise<void> {
    this.saved.set(this.arrivedSaved);
    await this.shop.ensureLoaded();
    this.activeLocale.set(this.shop.defaultLocale());
    const [types, categories] = await Promise.all([outcome(listProductTypes()), outcome(listCategories())]);
    if (types.ok) this.types.set(types.data);
    if (categories.ok) this.categories.set(categories.data);
    await this.reload();
  }

  /** Loads the product as it is now (also after a 412: the merchant then applies their change again). */
  protected async reload(): Promise<void> {
    const id = this.id();
    this.problem.set(null);
    if (!id) {
      this.setForm(emptyForm(this.shop.locales(), this.shop.currencies()));
      return;
    }
    // No stale form to type into while the product is fetched: a change made now would be lost.
    this.form.set(null);
    const result = await outcome(getProduct({ path: { product_id: id } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.useProduct(result.data);
  }

  private useProduct(product: Product): void {
    this.product.set(product);
    this.setForm(formOf(product, this.shop.locales(), this.shop.currencies()));
  }

  private setForm(form: ProductForm): void {
    this.savedForm = structuredClone(form);
    this.form.set(form);
  }

  /**
   * A picture was uploaded, moved, described or deleted: the product has a new version, which the
   * next save of the form must send (the form itself is unchanged).
   */
  protected mediaChanged(version: number): void {
    this.product.update((p) => (p && p.version < version ? { ...p, version } : p));
  }

  protected show(tab: Tab, focus = false): void {
    this.tab.set(tab);
    if (tab === 'history' && !this.history().length) void this.loadHistory(true);
    if (focus) setTimeout(() => document.getElementById(`tab-${tab}`)?.focus());
  }

  protected stepLocale(step: number): void {
    const locales = this.shop.locales();
    const next = locales[(locales.indexOf(this.activeLocale()) + step + locales.length) % locales.length];
    this.activeLocale.set(next);
    setTimeout(() => document.getElementById(`locale-tab-${next}`)?.focus());
  }

  protected localeLabel(locale: string): string {
    const name = languageName(this.i18n, locale);
    return locale === this.shop.defaultLocale()
      ? this.i18n.t('catalog.editor.language-default', { language: name })
      : name;
  }

  protected localeHasErrors(locale: string): boolean {
    return (this.problem()?.errors ?? []).some((e) => e.field.endsWith(`.${locale}`));
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  /** The input's hint and error ids, for `aria-describedby`. */
  protected describedBy(id: string, field: string, hint = false): string | null {
    const ids = [hint ? `${id}-hint` : '', this.error(field) ? `${id}-error` : ''].filter((x) => x);
    return ids.length ? ids.join(' ') : null;
  }

  protected tagError(): string | null {
    return (
      this.error('tags') ?? (this.problem()?.errors ?? []).find((e) => e.field.startsWith('tags['))?.message ?? null
    );
  }

  protected optionValuesError(i: number): string | null {
    const prefix = `options[${i}].values`;
    return (this.problem()?.errors ?? []).find((e) => e.field.startsWith(prefix))?.message ?? null;
  }

  private isPlaced(field: string): boolean {
    if (/^(name|description|slug|seo_title|seo_description)\.[^.]+$/.test(field)) {
      return this.shop.locales().includes(field.slice(field.indexOf('.') + 1));
    }
    if (/^(name|status|publish_at|unpublish_at|product_type_id|category_ids|tags|variants)$/.test(field)) return true;
    if (/^tags\[\d+\]$/.test(field) || /^options\[\d+\]\.(name|values.*)$/.test(field)) return true;
    if (field.startsWith('attributes.')) {
      return this.attributesOf(this.form()?.productTypeId ?? '').some((a) => `attributes.${a.code}` === field);
    }
    return /^variants\[\d+\]\.(sku|barcode|weight_grams|option_values\.[^.]+|prices\.[A-Z]{3}\.(amount|compare_at|currency))$/.test(
      field,
    );
  }

  protected attributesOf(typeId: string): Attribute[] {
    return this.types().find((t) => t.id === typeId)?.attributes ?? [];
  }

  protected attributeName(a: Attribute): string {
    return pick(a.name, this.activeLocale(), this.shop.defaultLocale()) || a.code;
  }

  protected chosen(f: ProductForm, code: string, option: string): boolean {
    const value = f.attributes[code];
    return Array.isArray(value) && value.includes(option);
  }

  protected toggleChoice(f: ProductForm, code: string, option: string): void {
    const value = Array.isArray(f.attributes[code]) ? (f.attributes[code] as string[]) : [];
    f.attributes[code] = value.includes(option) ? value.filter((v) => v !== option) : [...value, option];
  }

  protected toggleCategory(f: ProductForm, id: string): void {
    f.categoryIds = f.categoryIds.includes(id) ? f.categoryIds.filter((c) => c !== id) : [...f.categoryIds, id];
  }

  protected valuesOf(text: string): string[] {
    return words(text);
  }

  protected currencyColumns(f: ProductForm): string[] {
    const columns = new Set(this.shop.currencies());
    for (const v of f.variants) for (const c of Object.keys(v.prices)) columns.add(c);
    return [...columns];
  }

  protected priceOf(v: VariantRow, currency: string): VariantRow['prices'][string] {
    v.prices[currency] ??= { amount: '', compareAt: '' };
    return v.prices[currency];
  }

  protected addOption(f: ProductForm): void {
    f.options.push({ name: '', values: '' });
  }

  protected removeOption(f: ProductForm, i: number): void {
    const [gone] = f.options.splice(i, 1);
    for (const v of f.variants) delete v.optionValues[gone.name];
  }

  protected addVariant(f: ProductForm): void {
    f.variants.push(emptyVariant(this.shop.currencies()));
    setTimeout(() => document.getElementById(`v${f.variants.length - 1}-sku`)?.focus());
  }

  /** A row for every combination of option values no variant has yet, its SKU to be filled in. */
  protected addCombinations(f: ProductForm): void {
    let combos: Record<string, string>[] = [{}];
    for (const o of f.options) {
      combos = combos.flatMap((c) => words(o.values).map((value) => ({ ...c, [o.name]: value })));
    }
    const key = (values: Record<string, string>) => f.options.map((o) => values[o.name] ?? '').join('\u0000');
    const have = new Set(f.variants.map((v) => key(v.optionValues)));
    // An untouched empty row is replaced rather than left standing beside the new ones.
    if (f.variants.length === 1 && !f.variants[0].id && !f.variants[0].sku && !have.has(key(combos[0] ?? {}))) {
      f.variants = [];
    }
    for (const values of combos) {
      if (have.has(key(values))) continue;
      const row = emptyVariant(this.shop.currencies());
      row.optionValues = values;
      f.variants.push(row);
    }
  }

  protected removeVariant(f: ProductForm, i: number): void {
    f.variants.splice(i, 1);
  }

  protected async save(): Promise<void> {
    const f = this.form();
    if (!f || this.busy()) return;
    this.saved.set(false);
    const local = localProblems(f, (key) => this.i18n.t(key));
    if (local.length) {
      this.showProblem({
        type: 'about:blank',
        title: this.i18n.t('catalog.editor.invalid-amounts'),
        detail: '',
        status: 422,
        errors: local,
      });
      return;
    }
    this.busy.set(true);
    try {
      if (this.product()) await this.update(f);
      else await this.create(f);
    } finally {
      this.busy.set(false);
    }
  }

  /**
   * The save button is at the end of a long form: after a refusal the first field the API named
   * gets the focus (its message is read with it), else the banner scrolls into view.
   */
  private showProblem(problem: Problem): void {
    this.problem.set(problem);
    // A text refused in another language opens that language's tab.
    const refused = this.shop.locales().find((l) => this.localeHasErrors(l));
    if (refused && !this.localeHasErrors(this.activeLocale())) this.activeLocale.set(refused);
    setTimeout(() => {
      const field = document.querySelector<HTMLElement>('[aria-invalid="true"]');
      if (field) field.focus();
      else document.querySelector('.problem-alert')?.scrollIntoView({ block: 'center' });
    });
  }

  private type(f: ProductForm): ProductType | undefined {
    return this.types().find((t) => t.id === f.productTypeId);
  }

  private async create(f: ProductForm): Promise<void> {
    const result = await outcome(createProduct({ body: newProductBody(f, this.type(f)) }));
    if (!result.ok) {
      this.showProblem(placeVariantErrors(result.problem, f.variants));
      return;
    }
    this.problem.set(null);
    // The editor of the saved product is a new page; it says "Saved." when told so.
    await this.router.navigate(['/products', result.data.id], { replaceUrl: true, state: { saved: true } });
  }

  /**
   * The product's own fields in one PATCH, then each variant added, changed or removed: every
   * step sends the version the previous one answered with, so a concurrent save shows as a 412.
   */
  private async update(f: ProductForm): Promise<void> {
    let product = this.product() as Product;
    const saved = this.savedForm as ProductForm;
    const fail = (problem: Problem, row?: number) => {
      this.showProblem(placeVariantErrors(problem, f.variants, row));
      // What did save is the new starting point; the form keeps what the merchant typed.
      this.product.set(product);
      this.savedForm = formOf(product, this.shop.locales(), this.shop.currencies());
    };
    const patch = productPatch(f, saved, this.type(f));
    if (Object.keys(patch).length) {
      const result = await outcome(
        updateProduct({ path: { product_id: product.id }, headers: ifMatch(product.version), body: patch }),
      );
      if (!result.ok) return fail(result.problem);
      product = result.data;
    }
    const kept = new Set(f.variants.map((v) => v.id).filter((id) => id));
    for (const gone of saved.variants.filter((v) => v.id && !kept.has(v.id))) {
      const result = await outcome(
        deleteVariant({
          path: { product_id: product.id, variant_id: gone.id as string },
          headers: ifMatch(product.version),
        }),
      );
      if (!result.ok) return fail(result.problem);
      product = result.data;
    }
    for (const [i, row] of f.variants.entries()) {
      if (!row.id) {
        const result = await outcome(
          addVariant({
            path: { product_id: product.id },
            headers: ifMatch(product.version),
            body: variantBody(row, i),
          }),
        );
        if (!result.ok) return fail(result.problem, i);
        product = result.data;
        row.id = product.variants.find((v) => v.sku === row.sku.trim())?.id;
        continue;
      }
      const before = saved.variants.findIndex((v) => v.id === row.id);
      const change = variantPatch(row, saved.variants[before], i, before);
      if (!Object.keys(change).length) continue;
      const result = await outcome(
        updateVariant({
          path: { product_id: product.id, variant_id: row.id },
          headers: ifMatch(product.version),
          body: change,
        }),
      );
      if (!result.ok) return fail(result.problem, i);
      product = result.data;
    }
    this.problem.set(null);
    this.saved.set(true);
    this.useProduct(product);
    this.history.set([]);
    this.historyCursor.set(null);
  }

  protected async remove(): Promise<void> {
    const product = this.product();
    if (!product || !confirm(this.i18n.t('catalog.editor.delete-confirm', { name: this.heading() }))) return;
    const result = await outcome(
      deleteProduct({ path: { product_id: product.id }, headers: ifMatch(product.version) }),
    );
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    await this.router.navigateByUrl('/products');
  }

  protected async loadHistory(fresh = false): Promise<void> {
    const id = this.id();
    if (!id) return;
    const cursor = fresh ? undefined : (this.historyCursor() ?? undefined);
    const result = await outcome(listProductChanges({ path: { product_id: id }, query: { limit: 20, cursor } }));
    if (!result.ok) {
      this.historyProblem.set(result.problem);
      return;
    }
    this.historyProblem.set(null);
    this.history.update((all) => (fresh ? result.data.items : [...all, ...result.data.items]));
    this.historyCursor.set(result.data.next_cursor ?? null);
  }

  protected actionLabel(action: string): string {
    const key = `catalog.editor.action.${action}`;
    const label = this.i18n.t(key);
    // An action added to the API after this screen shows by its own name.
    return label === key ? action : label;
  }

  /** Who made a change: "you" for the signed-in member, the API's name for anyone else. */
  protected who(changedBy: string): string {
    const me = this.session.account();
    return me && changedBy === `user:${me.id}`
      ? this.i18n.t('catalog.editor.history.you', { email: me.email })
      : changedBy;
  }

  protected when(iso: string): string {
    return when(iso, this.i18n.locale());
  }

  protected changeLines(change: ProductChange): string[] {
    const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    return Object.entries(change.changes ?? {}).map(([field, value]) => {
      const diff = value as { from?: unknown; to?: unknown } | null;
      if (diff && typeof diff === 'object' && ('from' in diff || 'to' in diff)) {
        return `${field}: ${show(diff.from ?? '—')} → ${show(diff.to ?? '—')}`;
      }
      return `${field}: ${show(value)}`;
    });
  }
}
