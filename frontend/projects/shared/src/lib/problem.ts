import type { Problem } from './api';

/** The slug at the end of a problem's `type` URI (`…/problems/version-conflict` → `version-conflict`). */
export function problemSlug(problem: Problem): string {
  return problem.type.slice(problem.type.lastIndexOf('/') + 1);
}

/**
 * The RFC 9457 problem an API call failed with, or a stand-in when the failure was not one
 * (the network is down, a proxy answered HTML): forms always have something to show.
 */
export function asProblem(error: unknown, status?: number): Problem {
  if (isProblem(error)) {
    return error;
  }
  return {
    type: 'about:blank',
    title: status ? `The server answered ${status}` : 'The server could not be reached',
    detail: 'Please try again in a moment.',
    status: status ?? 0,
  };
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  return typeof candidate['type'] === 'string' && typeof candidate['title'] === 'string';
}

/** The message the API gave for one field, if it named that field. */
export function fieldMessage(problem: Problem | null | undefined, field: string): string | null {
  return problem?.errors?.find((e) => e.field === field)?.message ?? null;
}

/** Problems whose field errors are all shown next to their fields need no banner of their own. */
export function unplacedErrors(problem: Problem, placed: readonly string[]): { field: string; message: string }[] {
  return (problem.errors ?? []).filter((e) => !placed.includes(e.field));
}

/** A 412: somebody else changed the resource since the form was loaded. */
export function isVersionConflict(problem: Problem | null | undefined): boolean {
  return problem?.status === 412;
}
