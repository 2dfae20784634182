import { describe, expect, it } from 'vitest';
import { backoffMs, judgeAttempt, MAX_DELAY_MS, OTHER_FAILURE_ATTEMPTS, retryAfterMs } from './policy.ts';
import type { PostResult } from './post.ts';

const created = new Date('2026-03-04T15:00:00Z');
const DAY = 24 * 3600_000;
const answered = (status: number, retryAfter: string | null = null): PostResult => ({ kind: 'answered', status, body: '', retryAfter, latencyMs: 1 });
const timeout: PostResult = { kind: 'unreachable', error: 'no answer', refused: false, latencyMs: 10_000 };
const judge = (result: PostResult, attempts: number, now: Date, random = 0.5) =>
  judgeAttempt({ result, attempts, createdAt: created, now, retryWindowMs: DAY, random });

describe('webhook retry policy', () => {
  it('backs off exponentially with ±20 % jitter, capped', () => {
    expect(backoffMs(1, 0.5)).toBe(5_000);
    expect(backoffMs(2, 0.5)).toBe(20_000);
    expect(backoffMs(3, 0)).toBe(64_000);
    expect(backoffMs(3, 0.999999)).toBeLessThanOrEqual(96_000);
    expect(backoffMs(20, 0.5)).toBe(MAX_DELAY_MS);
  });

  it('delivers on 2xx, stops on 410 and disables the endpoint', () => {
    expect(judge(answered(204), 1, created)).toEqual({ status: 'delivered' });
    expect(judge(answered(410), 1, created)).toEqual({ status: 'failed', disableEndpoint: 'gone' });
  });

  it('retries timeouts, 408, 429 and 5xx for the whole window, the last attempt at its end', () => {
    for (const result of [timeout, answered(500), answered(503), answered(429), answered(408)]) {
      expect(judge(result, 1, created)).toEqual({ status: 'pending', nextAttemptAt: new Date(created.getTime() + 5_000) });
    }
    // Simulate a day of failures: attempts keep coming until the window's end, then failed.
    let now = created;
    let attempts = 1;
    for (;;) {
      const verdict = judge(answered(503), attempts, now, Math.random());
      if (verdict.status !== 'pending') {
        expect(verdict.status).toBe('failed');
        break;
      }
      now = verdict.nextAttemptAt;
      attempts += 1;
    }
    expect(now.getTime()).toBe(created.getTime() + DAY);
    expect(attempts).toBeGreaterThan(8);
    expect(attempts).toBeLessThan(20);
  });

  it('honours a longer Retry-After (seconds or a date)', () => {
    expect(judge(answered(429, '120'), 1, created)).toEqual({ status: 'pending', nextAttemptAt: new Date(created.getTime() + 120_000) });
    expect(retryAfterMs(new Date(created.getTime() + 60_000).toUTCString(), created)).toBe(60_000);
    expect(retryAfterMs('soon', created)).toBeNull();
    // A shorter one does not shorten the backoff.
    expect(judge(answered(503, '1'), 2, created)).toEqual({ status: 'pending', nextAttemptAt: new Date(created.getTime() + 20_000) });
  });

  it(`fails other answers (4xx, 3xx) after ${OTHER_FAILURE_ATTEMPTS} attempts`, () => {
    expect(judge(answered(400), OTHER_FAILURE_ATTEMPTS - 1, created).status).toBe('pending');
    expect(judge(answered(400), OTHER_FAILURE_ATTEMPTS, created)).toEqual({ status: 'failed' });
    expect(judge(answered(301), OTHER_FAILURE_ATTEMPTS, created)).toEqual({ status: 'failed' });
    expect(judge(answered(503), OTHER_FAILURE_ATTEMPTS, created).status).toBe('pending');
  });
});
