import { rulesBody, rulesForm } from './cart-rules-support';

describe('cart rules form', () => {
  it('round-trips the shop rules as whole numbers', () => {
    const form = rulesForm({ abandon_after_minutes: 4320, max_line_quantity: 99, max_lines: 100 });
    expect(form).toEqual({ abandon_after_minutes: '4320', max_line_quantity: '99', max_lines: '100' });
    expect(rulesBody({ ...form, max_lines: ' 20 ' }, 'whole')).toEqual({
      body: { abandon_after_minutes: 4320, max_line_quantity: 99, max_lines: 20 },
    });
  });

  it('names every field that is not a whole number', () => {
    const answer = rulesBody({ abandon_after_minutes: '2.5', max_line_quantity: '', max_lines: '10' }, 'whole');
    expect('problem' in answer && answer.problem.errors?.map((e) => e.field)).toEqual([
      'abandon_after_minutes',
      'max_line_quantity',
    ]);
  });
});
