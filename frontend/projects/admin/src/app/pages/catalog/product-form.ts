import type { NewProduct, NewVariant, Problem, Product, ProductPatch, ProductType, VariantPatch } from 'shared';
import { type Localized, filled, fromLocalInput, toDecimal, toLocalInput, toMinor, words } from './catalog-support';

/** A price as the merchant types it, per currency: decimal text, not minor units. */
export interface PriceRow {
  amount: string;
  compareAt: string;
}

/** One row of the variants grid. `id` is absent until the variant is saved. */
export interface VariantRow {
  id?: string;
  sku: string;
  optionValues: Record<string, string>;
  barcode: string;
  weight: string;
  prices: Record<string, PriceRow>;
}

export interface OptionRow {
  name: string;
  values: string;
}

/** The product editor's form: what the inputs hold, in the shapes inputs hold it. */
export interface ProductForm {
  name: Localized;
  description: Localized;
  seoTitle: Localized;
  seoDescription: Localized;
  slug: Localized;
  status: Product['status'];
  kind: Product['kind'];
  publishAt: string;
  unpublishAt: string;
  productTypeId: string;
  attributes: Record<string, unknown>;
  categoryIds: string[];
  tags: string;
  options: OptionRow[];
  variants: VariantRow[];
}

function perLocale(text: Localized | undefined, locales: readonly string[]): Localized {
  return Object.fromEntries(locales.map((l) => [l, text?.[l] ?? '']));
}

export function emptyVariant(currencies: readonly string[]): VariantRow {
  return {
    sku: '',
    optionValues: {},
    barcode: '',
    weight: '',
    prices: Object.fromEntries(currencies.map((c) => [c, { amount: '', compareAt: '' }])),
  };
}

export function emptyForm(locales: readonly string[], currencies: readonly string[]): ProductForm {
  return {
    name: perLocale(undefined, locales),
    description: perLocale(undefined, locales),
    seoTitle: perLocale(undefined, locales),
    seoDescription: perLocale(undefined, locales),
    slug: perLocale(undefined, locales),
    status: 'draft',
    kind: 'physical',
    publishAt: '',
    unpublishAt: '',
    productTypeId: '',
    attributes: {},
    categoryIds: [],
    tags: '',
    options: [],
    variants: [emptyVariant(currencies)],
  };
}

export function variantRow(variant: Product['variants'][number], currencies: readonly string[]): VariantRow {
  const row = emptyVariant(currencies);
  row.id = variant.id;
  row.sku = variant.sku;
  row.optionValues = { ...variant.option_values };
  row.barcode = variant.barcode ?? '';
  row.weight = variant.weight_grams === null || variant.weight_grams === undefined ? '' : String(variant.weight_grams);
  for (const p of variant.prices) {
    const currency = p.price.currency;
    row.prices[currency] = {
      amount: toDecimal(p.price.amount, currency),
      compareAt: p.compare_at ? toDecimal(p.compare_at.amount, currency) : '',
    };
  }
  return row;
}

export function formOf(product: Product, locales: readonly string[], currencies: readonly string[]): ProductForm {
  // A currency the product is priced in stays editable even when the shop stopped selling it.
  const priced = product.variants.flatMap((v) => v.prices.map((p) => p.price.currency));
  const columns = [...new Set([...currencies, ...priced])];
  return {
    name: perLocale(product.name, locales),
    description: perLocale(product.description, locales),
    seoTitle: perLocale(product.seo_title, locales),
    seoDescription: perLocale(product.seo_description, locales),
    slug: perLocale(product.slug, locales),
    status: product.status,
    kind: product.kind,
    publishAt: toLocalInput(product.publish_at),
    unpublishAt: toLocalInput(product.unpublish_at),
    productTypeId: product.product_type_id ?? '',
    attributes: structuredClone(product.attributes) as Record<string, unknown>,
    categoryIds: [...product.category_ids],
    tags: product.tags.join(', '),
    options: product.options.map((o) => ({ name: o.name, values: o.values.join(', ') })),
    variants: [...product.variants].sort((a, b) => a.position - b.position).map((v) => variantRow(v, columns)),
  };
}

function number(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === '' ? null : Number(trimmed);
}

/** The prices a row gives, in the order the API will name them (`prices[0]`, `prices[1]`…). */
export function pricesOf(row: VariantRow): NewVariant['prices'] {
  return Object.entries(row.prices)
    .filter(([, p]) => p.amount.trim() !== '' || p.compareAt.trim() !== '')
    .map(([currency, p]) => ({
      currency,
      amount: toMinor(p.amount, currency) as number,
      compare_at: toMinor(p.compareAt, currency),
    }));
}

export function variantBody(row: VariantRow, position: number): NewVariant {
  return {
    sku: row.sku.trim(),
    option_values: { ...row.optionValues },
    barcode: row.barcode.trim() || null,
    weight_grams: number(row.weight),
    position,
    prices: pricesOf(row),
  };
}

function attributesOf(form: ProductForm, type: ProductType | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const definition of type?.attributes ?? []) {
    const value = form.attributes[definition.code];
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    values[definition.code] = definition.kind === 'number' ? Number(value) : value;
  }
  return values;
}

export function newProductBody(form: ProductForm, type: ProductType | undefined): NewProduct {
  const slug = filled(form.slug);
  return {
    name: filled(form.name),
    description: filled(form.description),
    seo_title: filled(form.seoTitle),
    seo_description: filled(form.seoDescription),
    slug: Object.keys(slug).length ? slug : null,
    status: form.status,
    kind: form.kind,
    publish_at: fromLocalInput(form.publishAt),
    unpublish_at: fromLocalInput(form.unpublishAt),
    product_type_id: form.productTypeId || null,
    attributes: attributesOf(form, type) as NewProduct['attributes'],
    category_ids: form.categoryIds,
    tags: words(form.tags),
    options: optionsOf(form),
    variants: form.variants.map((row, i) => variantBody(row, i)),
  };
}

function optionsOf(form: ProductForm): NewProduct['options'] {
  return form.options.map((o) => ({ name: o.name.trim(), values: words(o.values) }));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The product's own fields that differ from what was loaded: a PATCH sends only those. */
export function productPatch(form: ProductForm, saved: ProductForm, type: ProductType | undefined): ProductPatch {
  const now = newProductBody(form, type);
  const before = newProductBody(saved, type);
  const patch: ProductPatch = {};
  const keys = [
    'name',
    'description',
    'seo_title',
    'seo_description',
    'slug',
    'status',
    'kind',
    'publish_at',
    'unpublish_at',
    'product_type_id',
    'attributes',
    'category_ids',
    'tags',
    'options',
  ] as const;
  for (const key of keys) {
    if (!same(now[key], before[key])) (patch as Record<string, unknown>)[key] = now[key] ?? null;
  }
  // Slugs a merchant emptied are kept by the API (a product always answers to one per language).
  if (patch.slug === null) delete patch.slug;
  return patch;
}

/** The fields of a saved variant that changed, as its PATCH. */
export function variantPatch(
  row: VariantRow,
  saved: VariantRow,
  position: number,
  savedPosition: number,
): VariantPatch {
  const now = variantBody(row, position);
  const before = variantBody(saved, savedPosition);
  const patch: VariantPatch = {};
  for (const key of ['sku', 'option_values', 'barcode', 'weight_grams', 'position', 'prices'] as const) {
    if (!same(now[key], before[key])) (patch as Record<string, unknown>)[key] = now[key] ?? null;
  }
  return patch;
}

/**
 * Amounts the merchant typed that are not amounts: the form names them before asking the API,
 * in the member's language (`t` gives the product editor's texts).
 */
export function localProblems(form: ProductForm, t: (key: string) => string): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  form.variants.forEach((row, i) => {
    for (const [currency, price] of Object.entries(row.prices)) {
      if (Number.isNaN(toMinor(price.amount, currency)))
        errors.push({ field: `variants[${i}].prices.${currency}.amount`, message: t('catalog.editor.not-an-amount') });
      if (Number.isNaN(toMinor(price.compareAt, currency)))
        errors.push({
          field: `variants[${i}].prices.${currency}.compare_at`,
          message: t('catalog.editor.not-an-amount'),
        });
      if (price.amount.trim() === '' && price.compareAt.trim() !== '')
        errors.push({ field: `variants[${i}].prices.${currency}.amount`, message: t('catalog.editor.price-needed') });
    }
    if (row.weight.trim() !== '' && !/^\d+$/.test(row.weight.trim()))
      errors.push({ field: `variants[${i}].weight_grams`, message: t('catalog.editor.whole-grams') });
  });
  return errors;
}

/**
 * The API names a variant's fields by where they were in the request (`variants[1].prices[0]
 * .amount`, or `prices[0].amount` for a single variant's PATCH); the grid shows prices by
 * currency, so this renames them to the input they belong to (`variants[1].prices.EUR.amount`).
 */
export function placeVariantErrors(problem: Problem, rows: readonly VariantRow[], only?: number): Problem {
  if (!problem.errors?.length) return problem;
  const errors = problem.errors.map((error) => {
    let field = error.field;
    if (only !== undefined && !field.startsWith('variants[')) field = `variants[${only}].${field}`;
    // Checks of saved variants after an option change name them by SKU.
    const bySku = /^variants\[([^\]]*[^\d\]][^\]]*)\](.*)$/.exec(field);
    if (bySku) {
      const index = rows.findIndex((r) => r.sku === bySku[1]);
      if (index >= 0) field = `variants[${index}]${bySku[2]}`;
    }
    const match = /^variants\[(\d+)\]\.prices\[(\d+)\](.*)$/.exec(field);
    if (match) {
      const row = rows[Number(match[1])];
      const currency = row ? pricesOf(row)[Number(match[2])]?.currency : undefined;
      if (currency) field = `variants[${match[1]}].prices.${currency}${match[3] || '.amount'}`;
    }
    return { ...error, field };
  });
  return { ...problem, errors };
}
