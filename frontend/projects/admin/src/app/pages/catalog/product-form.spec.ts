import { I18n, type Problem, type Product } from 'shared';
import { CATALOG_PRODUCT } from '../../texts/catalog-product';
import {
  emptyForm,
  formOf,
  localProblems,
  newProductBody,
  placeVariantErrors,
  productPatch,
  variantPatch,
} from './product-form';

const product: Product = {
  id: 'p1',
  version: 3,
  kind: 'physical',
  status: 'draft',
  name: { en: 'Linen shirt', de: 'Leinenhemd' },
  description: { en: 'Cool' },
  seo_title: {},
  seo_description: {},
  slug: { en: 'linen-shirt', de: 'leinenhemd' },
  attributes: { fit: 'slim' as never },
  category_ids: ['c1'],
  tags: ['summer'],
  options: [{ name: 'Size', values: ['S', 'M'] }],
  created_at: '',
  created_by: '',
  modified_at: '',
  modified_by: '',
  variants: [
    {
      id: 'v2',
      position: 1,
      sku: 'LIN-M',
      option_values: { Size: 'M' },
      prices: [{ price: { amount: 2190, currency: 'EUR' } }],
    },
    {
      id: 'v1',
      position: 0,
      sku: 'LIN-S',
      option_values: { Size: 'S' },
      barcode: '400',
      weight_grams: 200,
      prices: [
        { price: { amount: 1990, currency: 'EUR' }, compare_at: { amount: 2990, currency: 'EUR' } },
        { price: { amount: 2490, currency: 'USD' } },
      ],
    },
  ],
};

describe('the product form', () => {
  it('lays a product out per language and per currency, variants in their order', () => {
    const form = formOf(product, ['en', 'de'], ['EUR', 'USD']);
    expect(form.name).toEqual({ en: 'Linen shirt', de: 'Leinenhemd' });
    expect(form.description).toEqual({ en: 'Cool', de: '' });
    expect(form.variants.map((v) => v.sku)).toEqual(['LIN-S', 'LIN-M']);
    expect(form.variants[0].prices['EUR']).toEqual({ amount: '19.90', compareAt: '29.90' });
    expect(form.variants[1].prices['USD']).toEqual({ amount: '', compareAt: '' });
    expect(form.options).toEqual([{ name: 'Size', values: 'S, M' }]);
  });

  it('patches only what changed', () => {
    const saved = formOf(product, ['en', 'de'], ['EUR', 'USD']);
    const form = structuredClone(saved);
    expect(productPatch(form, saved, undefined)).toEqual({});
    form.status = 'active';
    form.tags = 'summer, linen';
    form.name['de'] = 'Hemd';
    expect(productPatch(form, saved, undefined)).toEqual({
      status: 'active',
      tags: ['summer', 'linen'],
      name: { en: 'Linen shirt', de: 'Hemd' },
    });
  });

  it('sends a variant’s prices in minor units, all of them when one changed', () => {
    const saved = formOf(product, ['en'], ['EUR', 'USD']);
    const form = structuredClone(saved);
    expect(variantPatch(form.variants[0], saved.variants[0], 0, 0)).toEqual({});
    form.variants[0].prices['USD'].amount = '25';
    expect(variantPatch(form.variants[0], saved.variants[0], 0, 0)).toEqual({
      prices: [
        { currency: 'EUR', amount: 1990, compare_at: 2990 },
        { currency: 'USD', amount: 2500, compare_at: null },
      ],
    });
  });

  it('builds a new product with the attributes its type declares', () => {
    const form = emptyForm(['en', 'de'], ['EUR']);
    form.name['en'] = 'Mug';
    form.productTypeId = 't1';
    form.attributes = { volume: '330', handle: true, colours: [], stray: 'x' };
    form.variants[0].sku = 'MUG-1';
    form.variants[0].prices['EUR'].amount = '9.5';
    const body = newProductBody(form, {
      id: 't1',
      name: 'Mug',
      version: 1,
      created_at: '',
      modified_at: '',
      attributes: [
        { code: 'volume', kind: 'number', name: {}, options: [], filterable: false },
        { code: 'handle', kind: 'boolean', name: {}, options: [], filterable: false },
        { code: 'colours', kind: 'multi_select', name: {}, options: ['red'], filterable: true },
      ],
    });
    expect(body.name).toEqual({ en: 'Mug' });
    expect(body.slug).toBeNull();
    expect(body.attributes).toEqual({ volume: 330, handle: true });
    expect(body.variants[0]).toMatchObject({ sku: 'MUG-1', prices: [{ currency: 'EUR', amount: 950 }] });
  });

  it('names amounts that are not amounts before asking the API', () => {
    const form = emptyForm(['en'], ['EUR']);
    form.variants[0].prices['EUR'] = { amount: 'ten', compareAt: '12' };
    form.variants[0].weight = '1.5';
    const i18n = new I18n();
    i18n.register(CATALOG_PRODUCT);
    i18n.use('de');
    const problems = localProblems(form, (key) => i18n.t(key));
    expect(problems.map((e) => e.field)).toEqual(['variants[0].prices.EUR.amount', 'variants[0].weight_grams']);
    expect(problems.map((e) => e.message)).toEqual(['kein Betrag', 'ganze Gramm']);
    i18n.use('en');
  });

  it('puts the API’s errors under the grid’s inputs', () => {
    const form = formOf(product, ['en'], ['EUR', 'USD']);
    const problem: Problem = {
      type: 'https://agora.dev/problems/validation-failed',
      title: 'Validation failed',
      detail: '',
      status: 422,
      errors: [
        { field: 'variants[0].prices[1].currency', message: 'not sold' },
        { field: 'variants[LIN-M].option_values.Size', message: 'one of S' },
      ],
    };
    expect(placeVariantErrors(problem, form.variants).errors?.map((e) => e.field)).toEqual([
      'variants[0].prices.USD.currency',
      'variants[1].option_values.Size',
    ]);
    const single: Problem = { ...problem, errors: [{ field: 'sku', message: 'taken' }] };
    expect(placeVariantErrors(single, form.variants, 1).errors?.[0].field).toBe('variants[1].sku');
  });
});
