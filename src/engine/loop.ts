/**
 * The one wakeable loop behind the inline dispatcher, the distributed dispatcher and the leader
 * election: run a round, then sleep until a time or a wake-up (bounded by `maxIdleMs`, so a
 * clock jump or a lost wake-up costs at most that), and back off after a failing round. Sleeps
 * run on the injected clock's timers when it keeps them (a test's ManualClock wakes the loop by
 * moving past the due time), on real timers otherwise.
 */
import { timerOf, type Clock } from './clock.ts';

/** What a round asks of the loop before the next one. */
export type Pause =
  /** Go again at once (work was found; more may be waiting). */
  | { kind: 'again' }
  /** Sleep this long, or until woken. */
  | { kind: 'for'; ms: number }
  /** Sleep until this time (none: nothing is scheduled), bounded by maxIdleMs, or until woken. */
  | { kind: 'until'; at: Date | null };

export const again: Pause = { kind: 'again' };
export const pauseFor = (ms: number): Pause => ({ kind: 'for', ms });
export const pauseUntil = (at: Date | null): Pause => ({ kind: 'until', at });

export interface LoopOptions {
  clock: Clock;
  /** Upper bound on any sleep. */
  maxIdleMs: number;
  round(): Promise<Pause>;
  /** A round threw: how long to wait before the next one (`attempt` counts failures in a row). */
  onError(error: unknown, attempt: number): number;
}

export class WakeableLoop {
  private running = false;
  private generation = 0;
  private loop?: Promise<void>;
  private woken = false;
  private wakeUp?: () => void;
  private readonly timer: (ms: number, fn: () => void) => () => void;

  constructor(private readonly options: LoopOptions) {
    this.timer = timerOf(options.clock);
  }

  get active(): boolean {
    return this.running;
  }

  /** Whether the loop is asleep, waiting for its time or a wake-up. */
  get asleep(): boolean {
    return this.wakeUp !== undefined;
  }

  /** Starts the loop; one started again while its last run is ending waits for that run first. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    const previous = this.loop;
    this.loop = (async () => {
      await previous;
      await this.run(generation);
    })();
  }

  /** Stops the loop (a sleeping one at once) and resolves when its round has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Something changed: end the current sleep, or skip the next one. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(generation: number): Promise<void> {
    let failures = 0;
    while (this.running && generation === this.generation) {
      try {
        this.woken = false;
        const pause = await this.options.round();
        failures = 0;
        if (pause.kind === 'for') await this.sleep(pause.ms);
        else if (pause.kind === 'until') await this.sleep(this.untilMs(pause.at));
      } catch (error) {
        failures += 1;
        await this.sleep(this.options.onError(error, failures));
      }
    }
  }

  private untilMs(at: Date | null): number {
    if (!at) return this.options.maxIdleMs;
    return Math.max(0, at.getTime() - this.options.clock.now().getTime());
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || !this.running) return Promise.resolve();
    const bounded = Math.min(ms, this.options.maxIdleMs);
    return new Promise((resolve) => {
      let cancel = () => undefined as unknown;
      const done = () => {
        cancel();
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      // Due now: yield to the event loop, whatever the clock (a manual one would never fire).
      if (bounded <= 0) {
        const handle = setImmediate(done);
        cancel = () => clearImmediate(handle);
      } else {
        cancel = this.timer(bounded, done);
      }
    });
  }
}
