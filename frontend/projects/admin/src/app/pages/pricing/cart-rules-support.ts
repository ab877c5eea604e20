import type { CartSettings, Problem } from 'shared';

/** The cart rules form as typed: whole numbers as text. */
export interface CartRulesForm {
  abandon_after_minutes: string;
  max_line_quantity: string;
  max_lines: string;
}

const FIELDS = ['abandon_after_minutes', 'max_line_quantity', 'max_lines'] as const;

/** The form filled from the shop's rules. */
export function rulesForm(settings: CartSettings): CartRulesForm {
  return {
    abandon_after_minutes: String(settings.abandon_after_minutes),
    max_line_quantity: String(settings.max_line_quantity),
    max_lines: String(settings.max_lines),
  };
}

/**
 * The body to send, or a problem naming every field that is not a whole number (the API checks
 * the ranges and names its fields the same way).
 */
export function rulesBody(form: CartRulesForm, wholeNumber: string): { body: CartSettings } | { problem: Problem } {
  const errors = FIELDS.filter((field) => !/^\s*\d+\s*$/.test(form[field])).map((field) => ({
    field,
    message: wholeNumber,
  }));
  if (errors.length) {
    return { problem: { type: 'about:blank', title: wholeNumber, detail: wholeNumber, status: 422, errors } };
  }
  return {
    body: {
      abandon_after_minutes: Number(form.abandon_after_minutes),
      max_line_quantity: Number(form.max_line_quantity),
      max_lines: Number(form.max_lines),
    },
  };
}
