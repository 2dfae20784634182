/**
 * "Wait for the sends in flight": an operator's pause or cancel answers only once no send it
 * stops is between intent and outcome, so what the answer says is final. Bounded: a send stuck
 * in `started` (its worker died) must not hold the operator forever; it becomes `unknown` when
 * its lease runs out. One function for every caller (controls, sequence pause).
 */
import type { Clock } from './clock.ts';

/**
 * Polls `inFlight` until it answers 0, or `timeoutMs` have passed on `clock` (a test's manual
 * clock ends the wait by moving past it), or the pauses taken add up to `timeoutMs` (so a clock
 * that never moves — a manual one nobody advances — cannot hold a control forever). Answers
 * whether nothing was left in flight. The pause between polls (5 ms doubling to 200 ms) is real
 * time: it paces the database, not the domain.
 */
export async function waitForSendsInFlight(clock: Clock, timeoutMs: number, inFlight: () => Promise<number>): Promise<boolean> {
  const deadline = clock.now().getTime() + timeoutMs;
  let paused = 0;
  let delay = 5;
  while (clock.now().getTime() < deadline && paused < timeoutMs) {
    if ((await inFlight()) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, delay));
    paused += delay;
    delay = Math.min(delay * 2, 200);
  }
  return false;
}
