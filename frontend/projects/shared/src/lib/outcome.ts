import type { Problem } from './api';
import { asProblem } from './problem';

/** An API call's result as a form needs it: the data, or the problem to show. */
export type Outcome<T> = { ok: true; data: T; status: number } | { ok: false; problem: Problem; status: number };

interface ClientResult<T> {
  data?: T;
  error?: unknown;
  response?: Response;
}

/**
 * Awaits a generated-client call and folds its three ways of ending (data, a problem+json
 * error, or no answer at all) into one value, so no screen handles a rejected promise itself.
 */
export async function outcome<T>(call: Promise<ClientResult<T>>): Promise<Outcome<T>> {
  try {
    const result = await call;
    const status = result.response?.status ?? 0;
    if (result.error !== undefined || !result.response?.ok) {
      return { ok: false, problem: asProblem(result.error, status), status };
    }
    return { ok: true, data: result.data as T, status };
  } catch (error) {
    return { ok: false, problem: asProblem(error), status: 0 };
  }
}

/**
 * The `ETag` a call's answer carried, for the next `If-Match`: what resources without a version
 * field of their own (the shop's settings) are written under. Null when the call had no answer
 * or the answer no ETag, so the next write goes without `If-Match` rather than failing here.
 */
export async function etagOf(call: Promise<{ response?: Response }>): Promise<string | null> {
  const answer = await call.catch(() => null);
  return answer?.response?.headers.get('ETag') ?? null;
}
