import type { CollectionPreview, Outcome } from 'shared';
import { RulePreview, type AskPreview } from './rule-preview';

function matched(total: number, names: string[] = []): Outcome<CollectionPreview> {
  const items = names.map((name, i) => ({ id: `p${i}`, name, status: 'active' as const }));
  return { ok: true, status: 200, data: { total, items } };
}

/** The API as the preview meets it: every question recorded, each answered when the test says. */
function api() {
  const asked: { rule: string; signal: AbortSignal; answer: (o: Outcome<CollectionPreview>) => void }[] = [];
  const ask: AskPreview = (rule, signal) =>
    new Promise((answer) => {
      asked.push({ rule, signal, answer });
    });
  return { asked, ask };
}

describe('the rule preview', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('asks once typing pauses, for the rule as it reads then', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('tag');
    await vi.advanceTimersByTimeAsync(200);
    preview.typed('tag = ');
    await vi.advanceTimersByTimeAsync(200);
    preview.typed('tag = summer ');
    await vi.advanceTimersByTimeAsync(299);
    expect(asked).toEqual([]);
    expect(preview.matches().state).toBe('checking');
    await vi.advanceTimersByTimeAsync(1);
    expect(asked.map((a) => a.rule)).toEqual(['tag = summer']);
    asked[0].answer(matched(3, ['Linen shirt', 'Sandals', 'Sun hat']));
    await vi.advanceTimersByTimeAsync(0);
    const now = preview.matches();
    expect(now.state).toBe('matched');
    expect(now.state === 'matched' && now.preview.items.map((i) => i.name)).toEqual([
      'Linen shirt',
      'Sandals',
      'Sun hat',
    ]);
  });

  it('keeps the latest rule’s answer when an earlier one comes after it', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('tag = su');
    await vi.advanceTimersByTimeAsync(300);
    preview.typed('tag = summer');
    expect(asked[0].signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    asked[1].answer(matched(3));
    await vi.advanceTimersByTimeAsync(0);
    asked[0].answer(matched(40));
    await vi.advanceTimersByTimeAsync(0);
    const now = preview.matches();
    expect(now.state === 'matched' && now.rule === 'tag = summer' && now.preview.total).toBe(3);
  });

  it('keeps the last answer on screen while a newer rule is tried', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('tag = summer');
    await vi.advanceTimersByTimeAsync(300);
    asked[0].answer(matched(3));
    await vi.advanceTimersByTimeAsync(0);
    preview.typed('tag = summer and price < 50');
    const now = preview.matches();
    expect(now.state === 'checking' && now.last?.total).toBe(3);
  });

  it('sends no empty rule, and drops one cleared before the pause', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('   ');
    preview.typed('tag = x');
    await vi.advanceTimersByTimeAsync(100);
    preview.typed('');
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toEqual([]);
    expect(preview.matches()).toEqual({ state: 'idle' });
  });

  it('does not ask again for the same rule with a space more', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('tag = summer');
    await vi.advanceTimersByTimeAsync(300);
    asked[0].answer(matched(3));
    await vi.advanceTimersByTimeAsync(0);
    preview.typed('tag = summer ');
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked.length).toBe(1);
  });

  it('gives the API’s reason when the rule does not parse, and forgets it on stop', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('tag =');
    await vi.advanceTimersByTimeAsync(300);
    asked[0].answer({
      ok: false,
      status: 422,
      problem: {
        type: 'https://agora.dev/problems/validation-failed',
        title: 'Validation failed',
        detail: '',
        status: 422,
        errors: [{ field: 'rule', message: 'expected a value after "="' }],
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(preview.matches()).toEqual({ state: 'invalid', rule: 'tag =', message: 'expected a value after "="' });
    preview.stop();
    expect(preview.matches()).toEqual({ state: 'idle' });
  });

  it('says when the rule could not be tried, and tries the same rule again when typed', async () => {
    const { asked, ask } = api();
    const preview = new RulePreview(ask);
    preview.typed('tag = summer');
    await vi.advanceTimersByTimeAsync(300);
    const offline = { type: 'about:blank', title: 'The server could not be reached', detail: '', status: 0 };
    asked[0].answer({ ok: false, status: 0, problem: offline });
    await vi.advanceTimersByTimeAsync(0);
    expect(preview.matches()).toEqual({ state: 'failed', rule: 'tag = summer', problem: offline });
    preview.typed('tag = summer ');
    await vi.advanceTimersByTimeAsync(300);
    expect(asked.length).toBe(2);
  });
});
