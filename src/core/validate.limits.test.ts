/**
 * Inputs that validate but would fail later are refused up front (issue 14): durations beyond
 * ten years, fractional years or months, a schedule with no opening in the next year; and a
 * loop that could send again within minutes.
 */
import { describe, expect, it } from 'vitest';
import { validateDefinition } from './validate.ts';
import { branch, email, expectProblem, sms, wait, withSteps } from './validate.fixtures.ts';

const now = new Date('2026-03-04T15:00:00Z');

function problemsAt(input: unknown, options?: { now?: Date }) {
  const result = validateDefinition(input, options);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return result.problems;
}

describe('durations are capped at ten years', () => {
  it('refuses a wait of P999999Y and a branch within of P11Y, naming the field', () => {
    expectProblem(problemsAt(withSteps([email('a'), wait('w', 'P999999Y')])), '$.steps[1].duration', 'P10Y');
    expectProblem(problemsAt(withSteps([email('a'), branch('b', 'a', 'a', { within: 'P11Y' })])), '$.steps[1].within', '10 years');
    expectProblem(problemsAt(withSteps([email('a'), wait('w', 'PT99999999H')])), '$.steps[1].duration', '10 years');
  });

  it('refuses business days that stretch past ten years on a sparse schedule', () => {
    const mondays = { schedule: { days: ['mon'] } };
    expectProblem(problemsAt(withSteps([email('a'), wait('w', 'P1000D', { businessDays: true })], mondays)), '$.steps[1].duration', '10 years');
  });

  it('refuses fractional years and months, which no calendar can add', () => {
    expectProblem(problemsAt(withSteps([email('a'), wait('w', 'P1.5Y')])), '$.steps[1].duration', 'whole');
    expectProblem(problemsAt(withSteps([email('a'), wait('w', 'P0.5M')])), '$.steps[1].duration', 'whole');
  });

  it('accepts ten years exactly and ordinary waits', () => {
    expect(validateDefinition(withSteps([email('a'), wait('w', 'P10Y')])).ok).toBe(true);
    expect(validateDefinition(withSteps([email('a'), wait('w', 'P520W')])).ok).toBe(true);
    expect(validateDefinition(withSteps([email('a'), wait('w', 'P2D', { businessDays: true })])).ok).toBe(true);
  });
});

describe('a schedule must open within the next year', () => {
  const mondays2026 = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2026, 2, 2 + 7 * i)).toISOString().slice(0, 10));

  it('refuses Mondays only when every Monday of the next year is a holiday, naming the schedule', () => {
    const input = withSteps([email('a')], { schedule: { days: ['mon'], holidays: mondays2026 } });
    expectProblem(problemsAt(input, { now }), '$.schedule', 'no opening', 'holidays');
  });

  it('accepts the same schedule once a Monday is free, and cannot judge without a now', () => {
    const input = withSteps([email('a')], { schedule: { days: ['mon'], holidays: mondays2026.slice(0, 30) } });
    expect(validateDefinition(input, { now }).ok).toBe(true);
    const shut = withSteps([email('a')], { schedule: { days: ['mon'], holidays: mondays2026 } });
    expect(validateDefinition(shut).ok).toBe(true);
  });
});

describe('a loop through a delivery step pauses at least an hour', () => {
  it('refuses email → wait PT1S → email', () => {
    const problems = problemsAt(withSteps([email('a'), wait('w', 'PT1S', { next: 'a' })]));
    expectProblem(problems, '$.steps[0]', '"a" → "w" → "a"', '1 hour');
  });

  it('adds up the waits around the loop', () => {
    const short = [email('a'), wait('w1', 'PT20M'), sms('b'), wait('w2', 'PT20M', { next: 'a' })];
    expectProblem(problemsAt(withSteps(short)), '$.steps[0]', '40 minutes');
    const enough = [email('a'), wait('w1', 'PT30M'), sms('b'), wait('w2', 'PT30M', { next: 'a' })];
    expect(validateDefinition(withSteps(enough)).ok).toBe(true);
  });

  it("counts a branch's within only on its else: then is taken as soon as the condition holds", () => {
    const viaThen = [email('a'), branch('b', 'a', 'done', { within: 'P1D' }), { id: 'done', type: 'end' }];
    expectProblem(problemsAt(withSteps(viaThen)), '$.steps[0]', '"a" → "b" → "a"');
    const viaElse = [email('a'), branch('b', 'done', 'a', { within: 'P1D' }), { id: 'done', type: 'end' }];
    expect(validateDefinition(withSteps(viaElse)).ok).toBe(true);
  });

  it('lets a loop through a task (an operator decides each time) or without a delivery step pass', () => {
    const task = { id: 't', type: 'task', title: 'Again?', outcomes: ['again', 'stop'], routes: { again: 'a' } };
    expect(validateDefinition(withSteps([email('a'), task])).ok).toBe(true);
    const noSend = [email('a'), wait('w', 'PT1M'), branch('b', 'w', 'done', { when: { lead: { field: 'x', op: 'exists' } }, within: 'PT1M' }), { id: 'done', type: 'end' }];
    expect(validateDefinition(withSteps(noSend)).ok).toBe(true);
  });
});
