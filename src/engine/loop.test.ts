/** The wakeable loop on a manual clock: it sleeps until its time, a wake-up, or maxIdle — never a fixed poll. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import { waitForSendsInFlight } from './inFlight.ts';
import { again, pauseFor, pauseUntil, WakeableLoop, type Pause } from './loop.ts';

/** Resolves once `check` holds, yielding to the event loop between looks (no timers). */
async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}

function loopOf(clock: ManualClock, rounds: Array<Pause | Error>, maxIdleMs = 60_000) {
  const seen: number[] = [];
  const backoffs: number[] = [];
  const loop = new WakeableLoop({
    clock,
    maxIdleMs,
    round: async () => {
      seen.push(clock.now().getTime());
      const next = rounds.shift() ?? pauseUntil(null);
      if (next instanceof Error) throw next;
      return next;
    },
    onError: (_error, attempt) => {
      backoffs.push(attempt);
      return 1000 * attempt;
    },
  });
  return { loop, seen, backoffs };
}

describe('WakeableLoop', () => {
  it('sleeps until the due time on the injected clock, and not a moment before', async () => {
    const clock = new ManualClock('2026-03-02T15:00:00Z');
    const { loop, seen } = loopOf(clock, [pauseUntil(new Date('2026-03-02T15:00:30Z'))]);
    loop.start();
    await settle(() => loop.asleep);
    clock.advance(29_999);
    await settle(() => loop.asleep);
    expect(seen).toHaveLength(1);
    clock.advance(1);
    await settle(() => seen.length === 2 && loop.asleep);
    await loop.stop();
  });

  it('a wake-up ends the sleep at once; one that arrives during a round skips the next sleep', async () => {
    const clock = new ManualClock();
    let wakeDuringRound = false;
    const seen: number[] = [];
    const loop: WakeableLoop = new WakeableLoop({
      clock,
      maxIdleMs: 60_000,
      round: async () => {
        seen.push(seen.length);
        if (wakeDuringRound) {
          wakeDuringRound = false;
          loop.wake();
        }
        return pauseFor(10_000);
      },
      onError: () => 1000,
    });
    loop.start();
    await settle(() => loop.asleep && seen.length === 1);
    loop.wake();
    await settle(() => loop.asleep && seen.length === 2);
    wakeDuringRound = true;
    loop.wake();
    // Round 3 wakes itself: round 4 follows without a sleep, then the loop sleeps again.
    await settle(() => loop.asleep && seen.length === 4);
    await loop.stop();
  });

  it('goes again at once after a round that found work; bounds every sleep by maxIdle', async () => {
    const clock = new ManualClock();
    const { loop, seen } = loopOf(clock, [again, again, pauseUntil(null)], 5_000);
    loop.start();
    await settle(() => loop.asleep && seen.length === 3);
    clock.advance(5_000);
    await settle(() => loop.asleep && seen.length === 4);
    await loop.stop();
  });

  it('backs off after failing rounds (attempts counted in a row) and resets after a good one', async () => {
    const clock = new ManualClock();
    const { loop, seen, backoffs } = loopOf(clock, [new Error('a'), new Error('b'), pauseFor(100), new Error('c')]);
    loop.start();
    await settle(() => loop.asleep && seen.length === 1);
    clock.advance(1000);
    await settle(() => loop.asleep && seen.length === 2);
    clock.advance(2000);
    await settle(() => loop.asleep && seen.length === 3);
    clock.advance(100);
    await settle(() => loop.asleep && seen.length === 4);
    expect(backoffs).toEqual([1, 2, 1]);
    await loop.stop();
  });

  it('stop ends a sleep at once; a start after a stop runs one loop, not two', async () => {
    const clock = new ManualClock();
    const { loop, seen } = loopOf(clock, []);
    loop.start();
    await settle(() => loop.asleep);
    await loop.stop();
    expect(loop.active).toBe(false);
    loop.start();
    loop.start();
    await settle(() => loop.asleep && seen.length === 2);
    await loop.stop();
    expect(seen).toHaveLength(2);
  });
});

describe('waitForSendsInFlight', () => {
  it('answers as soon as nothing is in flight', async () => {
    const clock = new ManualClock();
    const counts = [2, 1, 0];
    await expect(waitForSendsInFlight(clock, 30_000, async () => counts.shift() ?? 0)).resolves.toBe(true);
    expect(counts).toEqual([]);
  });

  it('gives up once its time has passed on the injected clock (a send stuck in started)', async () => {
    const clock = new ManualClock();
    let polls = 0;
    const waiting = waitForSendsInFlight(clock, 30_000, async () => {
      polls += 1;
      if (polls === 3) clock.advance(30_000);
      return 1;
    });
    await expect(waiting).resolves.toBe(false);
    expect(polls).toBe(3);
  });
});
