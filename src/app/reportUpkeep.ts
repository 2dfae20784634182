/**
 * The reports' upkeep (docs/ANALYTICS.md, "Reports"): in the process that runs the engine — the
 * embedded server, or the distributed leader — builds the closed days of every workspace's
 * report rollups at start and then every hour, a few days per transaction, so a report never
 * pays the build of a period nobody read before (the first after an upgrade paid 46 s for a
 * year of a million executions on PGlite). Reports still build what is missing themselves, so a
 * process without upkeep, or a day closed since the last round, costs one day's build at most.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import { buildClosedReportDays, MAX_REPORT_DAYS } from '../db/reports.ts';
import type { Clock } from '../engine/clock.ts';

export const REPORT_UPKEEP_EVERY_MS = 60 * 60 * 1000;
/**
 * Days per transaction: a day of a million-execution year is ~2,700 executions, a
 * fraction of a second to aggregate, and the embedded engine's statements wait for it.
 */
const DAYS_PER_PASS = 1;

export class ReportUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: { db: Db; clock: Clock; logger?: Logger; everyMs?: number; /** Distributed: only the leader builds. */ active?: () => boolean },
  ) {}

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.deps.everyMs ?? REPORT_UPKEEP_EVERY_MS).unref();
      });
    };
    loop();
  }

  /** One round (a round already under way is joined, not doubled). */
  tick(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    if (this.deps.active && !this.deps.active()) return;
    const started = Date.now();
    try {
      const passes = await buildClosedReportDays(this.deps.db, { now: this.deps.clock.now(), maxDays: MAX_REPORT_DAYS, maxDaysPerPass: DAYS_PER_PASS });
      if (passes > 0) this.deps.logger?.info({ passes, ms: Date.now() - started }, 'report rollups built');
    } catch (error) {
      this.deps.logger?.warn({ err: error }, 'report rollups could not be built now; reports build what they need, and the next round tries again');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
