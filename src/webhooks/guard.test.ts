import { describe, expect, test } from 'vitest';
import { ManualClock } from '../engine/clock.ts';
import { FailureLimiter } from './guard.ts';

describe('FailureLimiter', () => {
  test('an address is limited after its quota of failures, until its window closes', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const limiter = new FailureLimiter({ perMinute: 2, now: () => clock.now() });
    limiter.fail('a');
    expect(limiter.retryAfter('a')).toBeUndefined();
    clock.advance(10_000);
    limiter.fail('a');
    expect(limiter.retryAfter('a')).toBe(50);
    expect(limiter.retryAfter('b')).toBeUndefined();
    clock.advance(49_500);
    expect(limiter.retryAfter('a')).toBe(1);
    clock.advance(500);
    expect(limiter.retryAfter('a')).toBeUndefined();
  });

  test('0 means no limit', () => {
    const limiter = new FailureLimiter({ perMinute: 0, now: () => new Date() });
    for (let i = 0; i < 100; i += 1) limiter.fail('a');
    expect(limiter.retryAfter('a')).toBeUndefined();
  });

  test('memory stays bounded under a spray of addresses; recent ones are kept', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const limiter = new FailureLimiter({ perMinute: 1, now: () => clock.now() });
    for (let i = 0; i < 25_000; i += 1) limiter.fail(`10.0.${i >> 8}.${i & 255}`);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(10_000);
    expect(limiter.retryAfter(`10.0.${24_999 >> 8}.${24_999 & 255}`)).toBe(60);
  });
});
