/**
 * The send fence at the HTTP edge (docs/ENGINE.md, "Crashes: at most once"): a live adapter's
 * request never outlives the engine's send deadline, whatever its own timeout says, and none is
 * made once the deadline has passed.
 */
import { describe, expect, it } from 'vitest';
import { SendGridEmailSender } from '../../src/delivery/email/sendgrid.ts';
import { type FetchLike, postJson } from '../../src/delivery/http.ts';

/** A provider that never answers: the request ends only when its signal aborts it. */
function silentProvider(): { fetch: FetchLike; calls: () => number } {
  let calls = 0;
  const fetch: FetchLike = (_url, init) => {
    calls += 1;
    return new Promise((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)));
  };
  return { fetch, calls: () => calls };
}

describe('send deadline', () => {
  it('makes no request once the deadline has passed', async () => {
    const provider = silentProvider();
    const outcome = await postJson('https://provider.test/send', {}, { timeoutMs: 10_000, deadline: new Date(Date.now() - 1), fetch: provider.fetch });
    expect(outcome).toMatchObject({ kind: 'transport', code: 'timeout', timeoutMs: 0, mayHaveSent: false });
    expect(provider.calls()).toBe(0);
  });

  it('aborts at the deadline when it comes before the timeout', async () => {
    const provider = silentProvider();
    const outcome = await postJson('https://provider.test/send', {}, { timeoutMs: 600_000, deadline: new Date(Date.now() + 50), fetch: provider.fetch });
    expect(outcome.kind).toBe('transport');
    expect(outcome.kind === 'transport' && outcome.code).toBe('timeout');
    expect(outcome.kind === 'transport' && outcome.timeoutMs).toBeLessThanOrEqual(50);
    // The request was made: the provider may have taken it before the abort.
    expect(outcome.kind === 'transport' && outcome.mayHaveSent).toBe(true);
    expect(provider.calls()).toBe(1);
  });

  it('a live adapter passes the envelope deadline on: nothing sent past it, a retryable timeout', async () => {
    const provider = silentProvider();
    const sender = new SendGridEmailSender({ apiKey: 'SG.test', baseUrl: 'https://provider.test', timeoutMs: 10_000, fetch: provider.fetch });
    const result = await sender.send({
      idempotencyKey: 'e:s:0',
      executionId: 'x',
      enrollmentId: 'e',
      workspaceId: 'w',
      deadline: new Date(Date.now() - 1),
      to: 'lead@acme.test',
      from: { email: 'me@acme.test' },
      subject: 'Hi',
      text: 'Hello',
    });
    expect(result).toMatchObject({ kind: 'failed', retryable: true, code: 'timeout' });
    // Nothing left: a plain retryable failure, not an unknown delivery.
    expect(result.kind === 'failed' && result.mayHaveSent).toBeUndefined();
    expect(provider.calls()).toBe(0);
  });
});
