import { computed, signal } from '@angular/core';
import type { Outcome, Problem } from 'shared';

/** One page as the platform's list routes answer it. */
export interface Paged<T> {
  items: T[];
  next_cursor?: string | null;
}

/**
 * A cursor-paged list going back and forth. The API hands out only the next page's cursor, so
 * going back means reusing a cursor already followed: they are kept in order. Answers can arrive
 * out of order (a filter applied while a page loads); only the latest request's answer is shown.
 */
export class PagedList<T> {
  readonly items = signal<T[]>([]);
  readonly problem = signal<Problem | null>(null);
  readonly next = signal<string | null>(null);
  /** Until the first answer: lists show "loading" rather than "none". */
  readonly loaded = signal(false);
  /** The cursors of the pages before this one (empty on the first page). */
  private readonly before = signal<(string | undefined)[]>([]);
  readonly page = computed(() => this.before().length + 1);
  readonly hasNewer = computed(() => this.before().length > 0);
  private current: string | undefined = undefined;
  private requests = 0;

  constructor(private readonly fetchPage: (cursor: string | undefined) => Promise<Outcome<Paged<T>>>) {}

  /** The first page, as after a change of filters. */
  async first(): Promise<void> {
    this.before.set([]);
    await this.load(undefined);
  }

  /** This page again, as after an action changed something on it. */
  async reload(): Promise<void> {
    await this.load(this.current);
  }

  async older(): Promise<void> {
    const next = this.next();
    if (!next) return;
    const from = this.current;
    if (await this.load(next)) this.before.update((seen) => [...seen, from]);
  }

  async newer(): Promise<void> {
    const seen = this.before();
    if (!seen.length) return;
    if (await this.load(seen[seen.length - 1])) this.before.set(seen.slice(0, -1));
  }

  /** Whether this request's answer is the one shown (a problem is shown too; the page stays). */
  private async load(cursor: string | undefined): Promise<boolean> {
    const request = ++this.requests;
    const result = await this.fetchPage(cursor);
    if (request !== this.requests) return false;
    this.loaded.set(true);
    if (!result.ok) {
      this.problem.set(result.problem);
      return false;
    }
    this.problem.set(null);
    this.current = cursor;
    this.items.set(result.data.items);
    this.next.set(result.data.next_cursor ?? null);
    return true;
  }
}
