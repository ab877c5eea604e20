import type { Outcome } from 'shared';
import { PagedList, type Paged } from './paged-list';

/** Pages of letters, three a page, with the cursor being the index to start at. */
function letters(): { list: PagedList<string>; asked: (string | undefined)[] } {
  const all = 'abcdefgh'.split('');
  const asked: (string | undefined)[] = [];
  const list = new PagedList<string>(async (cursor) => {
    asked.push(cursor);
    const from = Number(cursor ?? 0);
    const next = from + 3 < all.length ? String(from + 3) : null;
    return { ok: true, status: 200, data: { items: all.slice(from, from + 3), next_cursor: next } };
  });
  return { list, asked };
}

describe('PagedList', () => {
  it('pages older and back newer through the cursors it followed', async () => {
    const { list, asked } = letters();
    await list.first();
    expect(list.items()).toEqual(['a', 'b', 'c']);
    expect(list.hasNewer()).toBe(false);
    await list.older();
    await list.older();
    expect(list.items()).toEqual(['g', 'h']);
    expect(list.page()).toBe(3);
    expect(list.next()).toBeNull();
    await list.older();
    expect(list.page()).toBe(3);
    await list.newer();
    expect(list.items()).toEqual(['d', 'e', 'f']);
    await list.newer();
    expect(list.items()).toEqual(['a', 'b', 'c']);
    expect(list.page()).toBe(1);
    expect(asked).toEqual([undefined, '3', '6', '3', undefined]);
  });

  it('reloads the page it shows, and starts over on first()', async () => {
    const { list, asked } = letters();
    await list.first();
    await list.older();
    await list.reload();
    expect(list.items()).toEqual(['d', 'e', 'f']);
    expect(list.page()).toBe(2);
    await list.first();
    expect(list.page()).toBe(1);
    expect(asked).toEqual([undefined, '3', '3', undefined]);
  });

  it('keeps the page and shows the problem when a page cannot be had', async () => {
    let fail = false;
    const list = new PagedList<string>(async (): Promise<Outcome<Paged<string>>> => {
      if (fail) {
        return {
          ok: false,
          status: 503,
          problem: { type: 'about:blank', title: 'Unavailable', detail: 'try later', status: 503 },
        };
      }
      return { ok: true, status: 200, data: { items: ['a'], next_cursor: 'x' } };
    });
    await list.first();
    fail = true;
    await list.older();
    expect(list.problem()?.title).toBe('Unavailable');
    expect(list.items()).toEqual(['a']);
    expect(list.page()).toBe(1);
    fail = false;
    await list.reload();
    expect(list.problem()).toBeNull();
  });

  it('shows only the answer to the latest request when answers cross', async () => {
    const pending: ((value: Outcome<Paged<string>>) => void)[] = [];
    const list = new PagedList<string>(() => new Promise((resolve) => pending.push(resolve)));
    const first = list.first();
    const second = list.first();
    pending[1]({ ok: true, status: 200, data: { items: ['filtered'] } });
    pending[0]({ ok: true, status: 200, data: { items: ['stale'] } });
    await Promise.all([first, second]);
    expect(list.items()).toEqual(['filtered']);
  });
});
