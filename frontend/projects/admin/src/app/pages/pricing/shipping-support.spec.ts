import { bandRows, bandsBody, listOf } from './shipping-support';

describe('shipping bands', () => {
  it('reads weight bands in grams and order-value bands in the currency, the last one open', () => {
    const rows = [
      { upTo: '1000', price: '3.90' },
      { upTo: '', price: '' },
      { upTo: '', price: '6,90' },
    ];
    expect(bandsBody(rows, 'weight', 'EUR')).toEqual({
      bands: [
        { up_to: 1000, price: { amount: 390, currency: 'EUR' } },
        { up_to: null, price: { amount: 690, currency: 'EUR' } },
      ],
    });
    expect(bandsBody([{ upTo: '29.99', price: '5' }], 'order_value', 'EUR')).toEqual({
      bands: [{ up_to: 2999, price: { amount: 500, currency: 'EUR' } }],
    });
    expect(bandsBody([{ upTo: '3000', price: '500' }], 'order_value', 'JPY')).toEqual({
      bands: [{ up_to: 3000, price: { amount: 500, currency: 'JPY' } }],
    });
  });

  it('names the row and the field it cannot read', () => {
    expect(bandsBody([{ upTo: '1.5', price: '1' }], 'weight', 'EUR')).toEqual({ error: { index: 0, field: 'up_to' } });
    expect(bandsBody([{ upTo: '10', price: 'x' }], 'weight', 'EUR')).toEqual({ error: { index: 0, field: 'price' } });
  });

  it('turns stored bands back into rows, with an empty row to add to', () => {
    const rows = bandRows([{ up_to: 2999, price: { amount: 500, currency: 'EUR' } }], 'order_value');
    expect(rows).toEqual([
      { upTo: '29.99', price: '5.00' },
      { upTo: '', price: '' },
    ]);
  });

  it('splits lists typed with commas', () => {
    expect(listOf(' de, at;fr\n')).toEqual(['DE', 'AT', 'FR']);
    expect(listOf('sw1*, 10000-14999')).toEqual(['SW1*', '10000-14999']);
  });
});
