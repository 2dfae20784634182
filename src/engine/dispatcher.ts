/**
 * The inline dispatcher (embedded default): claims due enrollments in batches and hands them to
 * the executor, then sleeps until the earliest due time or a wake-up — never a fixed poll.
 */
import { randomUUID } from 'node:crypto';
import { claimDue, earliestDue, type Claim } from '../db/enrollments.ts';
import { releaseLeases } from '../db/leases.ts';
import { analyzeChangedTables, estimatedEnrollments, vacuumEnrollments } from '../db/upkeep.ts';
import type { EngineDeps } from './deps.ts';
import { Executor } from './executor.ts';
import { again, pauseUntil, WakeableLoop } from './loop.ts';
import { withSpan } from '../telemetry/tracing.ts';

/**
 * What the engine asks of whichever dispatcher runs: the inline one (embedded), the leader's
 * BullMQ one (distributed), or none at all (an API-only process, whose wake-ups go elsewhere).
 */
export interface Dispatcher {
  start(): void;
  /** Stops claiming and resolves once what this process was running has ended. */
  stop(): Promise<void>;
  /** Something became due (an enrollment, an event, an outcome): look now. */
  wake(): void;
  /** A shutdown past its deadline: gives back the leases this process holds; answers how many. */
  releaseHeld(): Promise<number>;
}

/** A vacuum once claims reach this share of the table's rows, at the least (autovacuum's default). */
const VACUUM_SCALE_FACTOR = 0.2;
/**
 * …but never more claims apart than the dispatcher's `vacuumAtMostEveryClaims` (default this),
 * however large the table. Each claim leaves up to two dead entries at the front of the due
 * index (its old due time, and its lease once the lease is in the past), and every claim walks
 * that dead front twice (which workspaces have something due; their due rows) until a vacuum
 * clears it. At a million enrollments a fifth of the table let that front grow to ~400,000
 * entries, past the embedded store's 16 MB of shared buffers, so each claim read it back from
 * the file system: 34 ms a claim, and a zone's drain at 09:00 28 % longer than with this cap
 * (docs/BENCHMARKS.md, "Issue 21, part 7"). At 50,000 claims the front stays under ~5 MB and
 * the walk under a millisecond; a vacuum of a million rows costs about a second.
 */
const VACUUM_AT_MOST_EVERY_CLAIMS = 50_000;

export interface DispatcherOptions {
  /** Enrollments claimed, and run as one batch (their sends side by side), per tick. */
  batchSize?: number;
  /**
   * PGlite runs Postgres without autovacuum, so on the embedded store the dispatcher vacuums
   * the enrollments table itself every this many claims (default 10,000), or every fifth of the
   * table's rows if that is more (autovacuum's own scale factor) up to `vacuumAtMostEveryClaims`:
   * a vacuum reads the whole table, and on a store of a million dormant enrollments one every
   * 10,000 claims cost the due ones ~10 % of their rate (docs/BENCHMARKS.md, workload C). Every claim (and every
   * move that is not a HOT update) leaves a dead entry in the due index, which later claims must
   * step over until a vacuum: without one, a burst of 100,000 slowed down as it ran (to ~660
   * steps/s, before moves were HOT) instead of holding ~1,900 (docs/BENCHMARKS.md). PostgreSQL's
   * autovacuum does this on a server.
   */
  vacuumEveryClaims?: number;
  /** The most claims between two vacuums, however large the table (default 50,000; see VACUUM_AT_MOST_EVERY_CLAIMS). */
  vacuumAtMostEveryClaims?: number;
  /**
   * On the embedded store, every this many claims (default 200) the dispatcher checks whether
   * enrollments or leads have changed by more rows than their statistics describe and analyzes
   * them if so, so the kept plans of the engine's statements follow the tables' real sizes
   * (src/db/upkeep.ts). The check is one query; an analyze happens only as a table grows.
   */
  analyzeCheckEveryClaims?: number;
  /** Upper bound on a sleep, so a clock jump or a missed wake-up costs at most this. */
  maxIdleMs?: number;
}

export class InlineDispatcher implements Dispatcher {
  private readonly executor: Executor;
  private readonly batchSize: number;
  private readonly maxIdleMs: number;
  private readonly vacuumEveryClaims: number;
  private readonly vacuumAtMostEveryClaims: number;
  private readonly analyzeCheckEveryClaims: number;
  private claimed = 0;
  /** Leases taken and not yet run to the end, so a shutdown past its deadline can give them back. */
  private readonly held = new Map<string, string>();
  private claimedAtVacuum = 0;
  /** Claims at which the next vacuum is considered (see vacuumEveryClaims). */
  private nextVacuumCheck: number;
  private claimedAtAnalyzeCheck = 0;
  private readonly loop: WakeableLoop;
  /** While the loop runs, a batch is topped up before each of its rounds (see round()). */
  private readonly refill: Parameters<Executor['runBatch']>[1];

  constructor(
    private readonly deps: EngineDeps,
    options: DispatcherOptions = {},
  ) {
    this.executor = new Executor(deps);
    this.batchSize = options.batchSize ?? 100;
    this.maxIdleMs = options.maxIdleMs ?? 60_000;
    this.vacuumEveryClaims = options.vacuumEveryClaims ?? 10_000;
    this.vacuumAtMostEveryClaims = options.vacuumAtMostEveryClaims ?? VACUUM_AT_MOST_EVERY_CLAIMS;
    this.analyzeCheckEveryClaims = options.analyzeCheckEveryClaims ?? 200;
    this.nextVacuumCheck = this.vacuumEveryClaims;
    this.loop = new WakeableLoop({
      clock: deps.clock,
      maxIdleMs: this.maxIdleMs,
      round: () => this.round(),
      onError: (error) => {
        this.deps.logger?.error({ err: error }, 'dispatcher tick failed; retrying');
        return 1000;
      },
    });
    this.refill = {
      size: this.batchSize,
      claim: (room: number) => (this.loop.active ? this.claim(room) : Promise.resolve([])),
      running: () => this.loop.active,
    };
  }

  /** Claims what is due now and runs it; answers how many claims it ran. */
  async tick(): Promise<number> {
    const claims = await this.claim(this.batchSize);
    await this.runAll(claims);
    return claims.length;
  }

  /** Whether the running loop is asleep, waiting for the next due time or a wake-up. */
  get asleep(): boolean {
    return this.loop.asleep;
  }

  /** Enrollments claimed since start (what an idle loop must not grow). */
  get claimsTaken(): number {
    return this.claimed;
  }

  private async claim(limit: number): Promise<Claim[]> {
    const now = this.deps.clock.now();
    const claims = await withSpan('touchpoint.dispatch', {}, () =>
      claimDue(this.deps.db, { now, limit, leaseUntil: new Date(now.getTime() + this.deps.leaseMs), leaseId: randomUUID() }),
    );
    this.claimed += claims.length;
    for (const claim of claims) this.held.set(claim.enrollmentId, claim.leaseId);
    if (this.deps.db.kind === 'pglite') await this.upkeep();
    return claims;
  }

  /** Autovacuum's chores on the embedded store, which has no autovacuum. */
  private async upkeep(): Promise<void> {
    if (this.claimed >= this.nextVacuumCheck) {
      const scaled = Math.min(this.vacuumAtMostEveryClaims, Math.round(VACUUM_SCALE_FACTOR * (await estimatedEnrollments(this.deps.db))));
      const every = Math.max(this.vacuumEveryClaims, scaled);
      if (this.claimed - this.claimedAtVacuum >= every) {
        this.claimedAtVacuum = this.claimed;
        this.claimedAtAnalyzeCheck = this.claimed; // the vacuum analyzes enrollments too
        await vacuumEnrollments(this.deps.db);
        this.nextVacuumCheck = this.claimed + this.vacuumEveryClaims;
      } else {
        this.nextVacuumCheck = this.claimedAtVacuum + every;
      }
    }
    if (this.claimed - this.claimedAtAnalyzeCheck >= this.analyzeCheckEveryClaims) {
      this.claimedAtAnalyzeCheck = this.claimed;
      await analyzeChangedTables(this.deps.db);
    }
  }

  /** Runs ticks until nothing is due at the clock's current time (tests drive a manual clock). */
  async drain(maxTicks = 100_000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxTicks; i++) {
      const n = await this.tick();
      if (n === 0) return total;
      total += n;
    }
    throw new Error(`drain() gave up after ${maxTicks} ticks; something keeps coming due.`);
  }

  start(): void {
    this.loop.start();
  }

  /** Stops claiming, lets in-flight steps finish, and resolves when the loop has ended. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * Gives back the leases of the batch still running (a shutdown past its deadline, about to
   * exit): due again now, so the next process runs them without waiting out the lease. A step
   * cut off mid-send is safe to pick up: its intent row was written before the provider call.
   */
  async releaseHeld(): Promise<number> {
    const leases = [...this.held].map(([enrollmentId, leaseId]) => ({ enrollmentId, leaseId }));
    this.held.clear();
    return releaseLeases(this.deps.db, leases, this.deps.clock.now());
  }

  /** Something became due (an enrollment, an event, an outcome): look now. */
  wake(): void {
    this.loop.wake();
  }

  /**
   * One round of the running loop. Its batch is topped up before each of its rounds with
   * whatever came due meanwhile (until stop), so a new arrival waits for one round, not for a
   * whole batch.
   */
  private async round() {
    const claimed = await this.runAll(await this.claim(this.batchSize), this.refill);
    if (claimed > 0) return again;
    return pauseUntil(await earliestDue(this.deps.db));
  }

  /** Runs a batch (topped up by `refill` when given); answers how many claims it ran. */
  private async runAll(claims: Claim[], refill?: Parameters<Executor['runBatch']>[1]): Promise<number> {
    if (claims.length === 0) return 0;
    try {
      return await withSpan('touchpoint.execute', { 'touchpoint.batch_size': claims.length }, () => this.executor.runBatch(claims, refill));
    } catch (error) {
      // The leases make these enrollments come due again; log and let them be retried.
      this.deps.logger?.error({ err: error, enrollmentIds: claims.map((c) => c.enrollmentId) }, 'step execution failed');
      return claims.length;
    } finally {
      this.held.clear(); // one batch at a time: whatever this one claimed (refills too) is done
    }
  }
}
