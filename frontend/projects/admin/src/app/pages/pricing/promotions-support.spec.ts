import type { Promotion } from 'shared';
import {
  bpToPercent,
  discountSummary,
  emptyPromotion,
  patchOf,
  percentToBp,
  placeProblem,
  promotionBody,
  promotionForm,
  toggled,
  usage,
} from './promotions-support';

const t = (key: string, p?: Record<string, string | number>) =>
  `${key.replace('pricing.promotions.', '')}${p ? ' ' + JSON.stringify(p) : ''}`;

describe('promotion percentages', () => {
  it('reads percentages as hundredths of a percent and back', () => {
    expect(percentToBp('10')).toBe(1000);
    expect(percentToBp(' 12,5 % ')).toBe(1250);
    expect(percentToBp('0.01')).toBe(1);
    expect(percentToBp('100')).toBe(10_000);
    expect(percentToBp('')).toBeNull();
    expect(percentToBp('ten')).toBeNaN();
    expect(percentToBp('1.234')).toBeNaN();
    expect(bpToPercent(1000)).toBe('10');
    expect(bpToPercent(1250)).toBe('12.5');
    expect(bpToPercent(null)).toBe('');
  });
});

describe('promotion bodies', () => {
  it('builds a code promotion of 10 % with its first code limited to 100 orders', () => {
    const form = { ...emptyPromotion('EUR'), name: ' Summer 10 ', percent: '10', code: 'summer10', codeLimit: '100' };
    const built = promotionBody(form, ['EUR', 'USD']);
    if ('error' in built) throw new Error(JSON.stringify(built.error));
    expect(built.body).toEqual({
      name: 'Summer 10',
      description: null,
      trigger: 'code',
      discount: { kind: 'percentage', percent_bp: 1000 },
      conditions: {
        product_ids: [],
        category_ids: [],
        collection_ids: [],
        customer_group_ids: [],
        minimum_subtotal: [],
      },
      starts_at: null,
      ends_at: null,
      usage_limit_per_customer: null,
      stacking: 'stackable',
      priority: 100,
      status: 'active',
      codes: [{ code: 'summer10', usage_limit: 100 }],
    });
    const patch = patchOf(built.body);
    expect('trigger' in patch).toBe(false);
    expect('codes' in patch).toBe(false);
    expect(patch.name).toBe('Summer 10');
  });

  it('sends only the kind’s own fields, amounts per currency typed', () => {
    const fixed = promotionBody(
      { ...emptyPromotion('EUR'), name: 'x', kind: 'fixed_amount', amounts: { USD: '5', EUR: '4,50' } },
      ['EUR', 'USD', 'JPY'],
    );
    if ('error' in fixed) throw new Error('refused');
    expect(fixed.body.discount).toEqual({
      kind: 'fixed_amount',
      amounts: [
        { amount: 450, currency: 'EUR' },
        { amount: 500, currency: 'USD' },
      ],
    });
    expect(fixed.sent.amounts).toEqual(['EUR', 'USD']);

    const bogo = promotionBody(
      { ...emptyPromotion('EUR'), name: 'x', kind: 'buy_x_get_y', buyQuantity: '2', getQuantity: '1' },
      ['EUR'],
    );
    if ('error' in bogo) throw new Error('refused');
    expect(bogo.body.discount).toEqual({ kind: 'buy_x_get_y', buy_quantity: 2, get_quantity: 1, percent_bp: 10_000 });

    const tiered = promotionBody(
      {
        ...emptyPromotion('EUR'),
        name: 'x',
        kind: 'tiered',
        trigger: 'automatic',
        code: 'IGNORED',
        tiers: [
          { threshold: '', currency: 'EUR', percent: '' },
          { threshold: '100', currency: 'EUR', percent: '10' },
        ],
        minimums: { EUR: '50' },
      },
      ['EUR'],
    );
    if ('error' in tiered) throw new Error('refused');
    expect(tiered.body.discount.tiers).toEqual([{ threshold: { amount: 10_000, currency: 'EUR' }, percent_bp: 1000 }]);
    expect(tiered.sent.tierRows).toEqual([1]);
    expect(tiered.body.conditions?.minimum_subtotal).toEqual([{ amount: 5000, currency: 'EUR' }]);
    expect(tiered.body.codes).toBeUndefined();

    const free = promotionBody({ ...emptyPromotion('EUR'), name: 'x', kind: 'free_shipping' }, ['EUR']);
    if ('error' in free) throw new Error('refused');
    expect(free.body.discount).toEqual({ kind: 'free_shipping' });
  });

  it('names the first field it cannot read', () => {
    const base = { ...emptyPromotion('EUR'), name: 'x' };
    expect(promotionBody({ ...base, percent: '' }, ['EUR'])).toEqual({
      error: { field: 'discount.percent_bp', expects: 'percent' },
    });
    expect(promotionBody({ ...base, kind: 'fixed_amount', amounts: { EUR: 'lots' } }, ['EUR'])).toEqual({
      error: { field: 'discount.amounts.EUR', expects: 'amount' },
    });
    expect(promotionBody({ ...base, kind: 'buy_x_get_y', buyQuantity: '1.5', getQuantity: '1' }, ['EUR'])).toEqual({
      error: { field: 'discount.buy_quantity', expects: 'whole' },
    });
    expect(promotionBody({ ...base, percent: '5', codeLimit: 'many' }, ['EUR'])).toEqual({
      error: { field: 'codes[0].usage_limit', expects: 'whole' },
    });
  });

  it('places the API’s messages about lists at the inputs they came from', () => {
    const placed = placeProblem(
      {
        type: 'about:blank',
        title: 'Invalid',
        detail: 'discount.amounts[1].amount: more than zero; …',
        status: 422,
        errors: [
          { field: 'discount.amounts[1].amount', message: 'more than zero' },
          { field: 'conditions.minimum_subtotal[0].currency', message: 'not sold' },
          { field: 'discount.tiers[0].threshold.amount', message: 'not negative' },
          { field: 'name', message: '1 to 200 characters' },
        ],
      },
      { amounts: ['EUR', 'USD'], minimums: ['CHF'], tierRows: [2] },
    );
    expect(placed.errors?.map((e) => e.field)).toEqual([
      'discount.amounts.USD',
      'conditions.minimum_subtotal.CHF',
      'discount.tiers[2].threshold',
      'name',
    ]);
    expect(placed.detail).toBe('Invalid');
  });

  it('turns a stored promotion back into the form', () => {
    const stored = {
      id: 'p',
      name: 'Summer 10',
      description: null,
      trigger: 'code',
      discount: { kind: 'percentage', percent_bp: 1000 },
      conditions: {
        product_ids: ['a'],
        category_ids: [],
        collection_ids: [],
        customer_group_ids: ['g'],
        minimum_subtotal: [{ amount: 2500, currency: 'EUR' }],
      },
      starts_at: null,
      ends_at: null,
      usage_limit_per_customer: 1,
      stacking: 'exclusive',
      priority: 5,
      status: 'active',
      code_count: 1,
      redemptions: 0,
      created_at: '',
      modified_at: '',
      version: 1,
    } as Promotion;
    const form = promotionForm(stored, 'EUR');
    expect(form.percent).toBe('10');
    expect(form.minimums).toEqual({ EUR: '25.00' });
    expect(form.productIds).toEqual(['a']);
    expect(form.groupIds).toEqual(['g']);
    expect(form.perCustomer).toBe('1');
    expect(form.stacking).toBe('exclusive');
    expect(form.priority).toBe('5');
    expect(form.tiers).toEqual([{ threshold: '', currency: 'EUR', percent: '' }]);
  });
});

describe('promotion summaries', () => {
  it('says what each kind takes off', () => {
    expect(discountSummary({ kind: 'percentage', percent_bp: 1000 }, t)).toBe('summary.percentage {"percent":"10"}');
    expect(discountSummary({ kind: 'fixed_amount', amounts: [{ amount: 500, currency: 'EUR' }] }, t)).toBe(
      'summary.fixed_amount {"amounts":"5.00 EUR"}',
    );
    expect(discountSummary({ kind: 'free_shipping' }, t)).toBe('summary.free_shipping');
    expect(discountSummary({ kind: 'buy_x_get_y', buy_quantity: 2, get_quantity: 1 }, t)).toBe(
      'summary.buy_x_get_y_free {"buy":2,"get":1}',
    );
    expect(discountSummary({ kind: 'buy_x_get_y', buy_quantity: 2, get_quantity: 1, percent_bp: 5000 }, t)).toBe(
      'summary.buy_x_get_y {"buy":2,"get":1,"percent":"50"}',
    );
    expect(
      discountSummary(
        {
          kind: 'tiered',
          tiers: [
            { threshold: { amount: 5000, currency: 'EUR' }, percent_bp: 500 },
            { threshold: { amount: 10_000, currency: 'EUR' }, percent_bp: 1000 },
          ],
        },
        t,
      ),
    ).toBe(
      'summary.tier {"threshold":"50.00 EUR","percent":"5"}; summary.tier {"threshold":"100.00 EUR","percent":"10"}',
    );
  });

  it('says how much a code has been used', () => {
    expect(usage(0, 100, t)).toBe('used-of {"used":0,"limit":100}');
    expect(usage(3, null, t)).toBe('used-unlimited {"used":3}');
  });

  it('toggles chosen ids', () => {
    expect(toggled(['a'], 'b', true)).toEqual(['a', 'b']);
    expect(toggled(['a', 'b'], 'a', false)).toEqual(['b']);
    expect(toggled(['a'], 'a', true)).toEqual(['a']);
  });
});
