/**
 * Time as the engine sees it. Tests inject a `ManualClock` and move it; nothing sleeps. A clock
 * may also keep timers (`after`): the loops that sleep until a due time then wake when a test
 * moves the clock past it, instead of when real time catches up.
 */
export interface Clock {
  now(): Date;
  /** Calls `fn` once `ms` have passed on this clock; answers how to cancel. Absent: real timers. */
  after?(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  after: realTimer,
};

/** A timer on this process's own time, whatever the injected clock. */
export function realTimer(ms: number, fn: () => void): () => void {
  const handle = setTimeout(fn, ms);
  return () => clearTimeout(handle);
}

/** The timer of `clock` when it keeps one, or else a real one. */
export function timerOf(clock: Clock): (ms: number, fn: () => void) => () => void {
  return clock.after ? (ms, fn) => clock.after!(ms, fn) : realTimer;
}

export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<{ at: number; fn: () => void }>();

  constructor(start: Date | string = '2026-03-02T15:00:00Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.current + Math.max(0, ms), fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  set(at: Date | string): void {
    this.current = new Date(at).getTime();
    this.fire();
  }

  advance(ms: number): void {
    this.current += ms;
    this.fire();
  }

  private fire(): void {
    for (const timer of [...this.timers]) {
      if (timer.at > this.current) continue;
      this.timers.delete(timer);
      timer.fn();
    }
  }
}
