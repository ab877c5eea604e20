import { signal } from '@angular/core';
import { fieldMessage, outcome, previewCollection, type CollectionPreview, type Outcome, type Problem } from 'shared';

/** What the collection editor shows under a rule while the merchant types it. */
export type RuleMatches =
  /** No rule to try (empty, or the collection is picked by hand). */
  | { state: 'idle' }
  /** A rule is being tried; what the last one matched stays on screen meanwhile. */
  | { state: 'checking'; rule: string; last: CollectionPreview | null }
  | { state: 'matched'; rule: string; preview: CollectionPreview }
  /** The rule does not parse: the API's reason, shown under the field. */
  | { state: 'invalid'; rule: string; message: string }
  /** The rule could not be tried (no connection, no permission): said beside the list. */
  | { state: 'failed'; rule: string; problem: Problem };

export type AskPreview = (rule: string, signal: AbortSignal) => Promise<Outcome<CollectionPreview>>;

/** How long typing must pause before a rule is tried: a request per word, not per key. */
export const RULE_PREVIEW_DELAY_MS = 300;

const askApi: AskPreview = (rule, signal) => outcome(previewCollection({ body: { rule }, signal }));

/**
 * Tries a collection rule as the merchant types it: waits for a pause in the typing, asks the
 * API what the rule matches now, and keeps only the answer for the latest rule (an earlier
 * request still under way is aborted, and its answer ignored should it come anyway, so a slow
 * answer for "tag = su" never replaces the one for "tag = summer").
 */
export class RulePreview {
  readonly matches = signal<RuleMatches>({ state: 'idle' });
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: AbortController | null = null;
  /** Bumped by every change: an answer counts only if nothing changed since it was asked for. */
  private generation = 0;

  constructor(
    private readonly ask: AskPreview = askApi,
    private readonly delay = RULE_PREVIEW_DELAY_MS,
  ) {}

  /** The rule as it reads now; an empty one is not sent (the API would refuse it anyway). */
  typed(rule: string): void {
    const trimmed = rule.trim();
    const current = this.matches();
    // The same rule again (a space added at its end): the answer on screen stands, unless
    // trying it failed, when typing is the way to try again.
    if (current.state !== 'idle' && current.state !== 'failed' && current.rule === trimmed) return;
    this.cancel();
    const generation = this.generation;
    if (!trimmed) {
      this.matches.set({ state: 'idle' });
      return;
    }
    this.matches.set({ state: 'checking', rule: trimmed, last: lastPreview(current) });
    this.timer = setTimeout(() => void this.run(trimmed, generation), this.delay);
  }

  /** Stops trying: the editor closed, or the collection is now picked by hand. */
  stop(): void {
    this.cancel();
    this.matches.set({ state: 'idle' });
  }

  private cancel(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending?.abort();
    this.pending = null;
  }

  private async run(rule: string, generation: number): Promise<void> {
    this.timer = null;
    const controller = new AbortController();
    this.pending = controller;
    const result = await this.ask(rule, controller.signal);
    if (generation !== this.generation) return;
    this.pending = null;
    if (result.ok) {
      this.matches.set({ state: 'matched', rule, preview: result.data });
    } else if (result.status === 422) {
      const message = fieldMessage(result.problem, 'rule') ?? (result.problem.detail || result.problem.title);
      this.matches.set({ state: 'invalid', rule, message });
    } else {
      this.matches.set({ state: 'failed', rule, problem: result.problem });
    }
  }
}

function lastPreview(matches: RuleMatches): CollectionPreview | null {
  if (matches.state === 'matched') return matches.preview;
  if (matches.state === 'checking') return matches.last;
  return null;
}
