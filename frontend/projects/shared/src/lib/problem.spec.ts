import type { Problem } from './api';
import { asProblem, fieldMessage, isVersionConflict, problemSlug, unplacedErrors } from './problem';

const invalid: Problem = {
  type: 'https://agora.dev/problems/validation-failed',
  title: 'Validation failed',
  detail: 'the request has invalid fields',
  status: 422,
  errors: [
    { field: 'email', message: 'is not an email address' },
    { field: 'address.country', message: 'is not an ISO country code' },
  ],
};

describe('problem+json', () => {
  it('finds the message for a named field and nothing for others', () => {
    expect(fieldMessage(invalid, 'email')).toBe('is not an email address');
    expect(fieldMessage(invalid, 'password')).toBeNull();
    expect(fieldMessage(null, 'email')).toBeNull();
  });

  it('lists the field errors no field on the form shows', () => {
    expect(unplacedErrors(invalid, ['email'])).toEqual([
      { field: 'address.country', message: 'is not an ISO country code' },
    ]);
  });

  it('names the problem by the last segment of its type', () => {
    expect(problemSlug(invalid)).toBe('validation-failed');
  });

  it('turns a failure that is not a problem into one a form can show', () => {
    const fromNetwork = asProblem(new TypeError('Failed to fetch'));
    expect(fromNetwork.status).toBe(0);
    expect(fromNetwork.title).toContain('could not be reached');
    expect(asProblem('<html>Bad gateway</html>', 502).title).toContain('502');
    expect(asProblem(invalid)).toBe(invalid);
  });

  it('recognises an optimistic-locking conflict', () => {
    expect(isVersionConflict({ ...invalid, status: 412 })).toBe(true);
    expect(isVersionConflict(invalid)).toBe(false);
  });
});
