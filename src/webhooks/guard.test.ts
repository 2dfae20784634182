import { describe, expect, test } from 'vitest';
import { ManualClock } from '../engine/clock.ts';
import { FailureLimiter, UnverifiedBudget } from './guard.ts';

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

describe('UnverifiedBudget', () => {
  test('a total and a per-address half; releases are idempotent', () => {
    const budget = new UnverifiedBudget(100);
    const a1 = budget.reserve('a', 40)!;
    expect(budget.reserve('a', 20)).toBeUndefined(); // a would hold 60 > 50
    const b1 = budget.reserve('b', 50)!;
    expect(budget.reserve('c', 20)).toBeUndefined(); // 110 > 100
    a1();
    a1();
    expect(budget.inFlight()).toBe(50);
    expect(budget.reserve('c', 20)).toBeDefined();
    b1();
    expect(budget.inFlight()).toBe(20);
  });

  test('one request larger than a share still fits on its own', () => {
    const budget = new UnverifiedBudget(100);
    const release = budget.reserve('a', 1_000);
    expect(release).toBeDefined();
    expect(budget.reserve('a', 1)).toBeUndefined();
    release!();
    expect(budget.inFlight()).toBe(0);
  });
});
