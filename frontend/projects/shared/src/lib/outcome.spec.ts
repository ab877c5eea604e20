import { etagOf, outcome } from './outcome';

describe('etagOf', () => {
  it('reads the ETag the answer carried, for the next If-Match', async () => {
    const call = Promise.resolve({ data: {}, response: new Response('{}', { headers: { ETag: '"7"' } }) });
    expect(await etagOf(call)).toBe('"7"');
  });

  it('gives null when the answer has no ETag or there was no answer', async () => {
    expect(await etagOf(Promise.resolve({ response: new Response('{}') }))).toBeNull();
    expect(await etagOf(Promise.resolve({}))).toBeNull();
    expect(await etagOf(Promise.reject(new TypeError('Failed to fetch')))).toBeNull();
  });

  it('reads the same call outcome has already read', async () => {
    const call = Promise.resolve({
      data: { minutes: 15 },
      response: new Response('{}', { status: 200, headers: { ETag: 'W/"abc"' } }),
    });
    const result = await outcome(call);
    expect(result.ok).toBe(true);
    expect(await etagOf(call)).toBe('W/"abc"');
  });
});
