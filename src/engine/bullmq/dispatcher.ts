/**
 * The distributed dispatcher: runs only on the leader. It claims due enrollments in batches
 * (claimDue: the lease is taken at dispatch) and turns each claim into one
 * `sequence.execute_node` job. Waits stay in the database; the queue only ever holds work that
 * is due now, and no more of it than the workers drain in the next moment (`aheadMs`, by the
 * rate they drained it lately): the queue is first in, first out, so what waits in it is what a
 * newly due step of another workspace waits behind, however fairly the claim interleaved them.
 * The rest stays in the database and is claimed, fairly again, on a later round.
 * It sleeps until the earliest due time or a wake-up, like the inline dispatcher.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { claimDue, earliestDue, type Claim } from '../../db/enrollments.ts';
import { releaseLeases } from '../../db/leases.ts';
import { withSpan } from '../../telemetry/tracing.ts';
import type { EngineDeps } from '../deps.ts';
import { again, pauseFor, pauseUntil, WakeableLoop } from '../loop.ts';
import { jobs, type ExecuteNodePayload } from './jobs.ts';

export interface BullMqDispatcherOptions {
  batchSize?: number;
  /**
   * How much work may wait in the queue, in milliseconds of the workers' measured drain rate
   * (default 200, at most a quarter of the lease). A small workspace's newly due step waits
   * behind this much of a large one's backlog.
   */
  aheadMs?: number;
  /** Bounds on the jobs left waiting in the queue; between them it follows `aheadMs` of the workers' pace. */
  maxQueued?: number;
  minQueued?: number;
  maxIdleMs?: number;
  /** How often to look at the queue while it is full (a Redis count, not a table scan). */
  backlogPollMs?: number;
}

export class BullMqDispatcher {
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly backlogPollMs: number;
  private readonly minQueued: number;
  private readonly aheadMs: number;
  private drainRate = 0;
  private sample?: { at: number; queued: number };
  private enqueuedSinceSample = 0;
  private readonly loop: WakeableLoop;

  constructor(
    private readonly deps: Pick<EngineDeps, 'db' | 'clock' | 'leaseMs' | 'logger' | 'observer'>,
    private readonly queue: Queue,
    options: BullMqDispatcherOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.maxQueued = options.maxQueued ?? 2000;
    // One claim's worth: enough for workers' batches (up to 100 jobs each) between the leader's
    // rounds, from the first round, before the drain rate is known (after an idle spell it has
    // decayed towards nothing). Each worker also holds its own jobs in flight (its concurrency).
    this.minQueued = options.minQueued ?? this.batchSize;
    this.aheadMs = Math.min(options.aheadMs ?? 200, deps.leaseMs / 4);
    // A quarter of what the queue holds drains between two looks at it.
    this.backlogPollMs = options.backlogPollMs ?? Math.max(10, Math.round(this.aheadMs / 4));
    this.loop = new WakeableLoop({
      clock: deps.clock,
      maxIdleMs: options.maxIdleMs ?? 30_000,
      round: () => this.round(),
      onError: (error, attempt) => {
        this.deps.logger?.error({ err: error, attempt }, 'dispatch failed; backing off');
        return Math.min(100 * 2 ** attempt, 5000);
      },
    });
  }

  get active(): boolean {
    return this.loop.active;
  }

  /** Leadership can flap (a dropped connection, then re-elected): the loop runs one round at a time. */
  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * On shutdown of the leader: jobs still waiting were claimed by it but started by nobody; give
   * their leases back so the next leader dispatches them at once. A worker that picks one up
   * afterwards finds the lease gone and does nothing.
   */
  async releaseWaiting(): Promise<number> {
    const waiting = await this.queue.getWaiting(0, this.maxQueued + this.batchSize);
    const leases = waiting.flatMap((job) => {
      const parsed = jobs.executeNode.payload.safeParse(job?.data);
      return parsed.success ? [parsed.data] : [];
    });
    return releaseLeases(this.deps.db, leases, this.deps.clock.now());
  }

  wake(): void {
    this.loop.wake();
  }

  /** One round: claim what is due (within the queue's room) and enqueue it; answers how many. */
  async dispatchOnce(): Promise<{ dispatched: number; full: boolean }> {
    const queued = await this.queue.getWaitingCount();
    const room = Math.min(this.batchSize, this.backlogLimit(queued) - queued);
    if (room <= 0) return { dispatched: 0, full: true };
    const now = this.deps.clock.now();
    const claims = await withSpan('touchpoint.dispatch', { 'touchpoint.batch_limit': room }, () =>
      claimDue(this.deps.db, { now, limit: room, leaseUntil: new Date(now.getTime() + this.deps.leaseMs), leaseId: randomUUID() }),
    );
    if (claims.length === 0) return { dispatched: 0, full: false };
    await this.enqueue(claims);
    return { dispatched: claims.length, full: claims.length === room && room < this.batchSize };
  }

  /**
   * How many jobs may wait in the queue: what the workers drain in `aheadMs`, by the rate they
   * drained it lately. Deeper would not run anything sooner (the workers hold their own jobs in
   * flight), it would only make a newly due step of another workspace wait longer behind it.
   */
  private backlogLimit(queued: number): number {
    const now = Date.now();
    const last = this.sample;
    if (last && now - last.at >= 250) {
      const drained = Math.max(0, last.queued + this.enqueuedSinceSample - queued);
      const rate = (drained * 1000) / (now - last.at);
      this.drainRate = this.drainRate === 0 ? rate : 0.7 * this.drainRate + 0.3 * rate;
    }
    if (!last || now - last.at >= 250) {
      this.sample = { at: now, queued };
      this.enqueuedSinceSample = 0;
    }
    const byRate = Math.floor((this.drainRate * this.aheadMs) / 1000);
    return Math.min(this.maxQueued, Math.max(this.minQueued, byRate));
  }

  private async enqueue(claims: Claim[]): Promise<void> {
    const { executeNode } = jobs;
    try {
      await this.queue.addBulk(
        claims.map((claim) => {
          const data: ExecuteNodePayload = { enrollmentId: claim.enrollmentId, leaseId: claim.leaseId, dueAt: claim.dueAt.toISOString() };
          return { name: executeNode.name, data, opts: { ...executeNode.options, jobId: executeNode.jobId(data) } };
        }),
      );
      this.enqueuedSinceSample += claims.length;
      this.deps.observer?.dispatched?.(claims.length);
    } catch (error) {
      // Redis is down: hand the claims back so they are due again at once, not after the lease.
      const released = await releaseLeases(this.deps.db, claims, this.deps.clock.now()).catch(() => 0);
      this.deps.logger?.warn({ err: error, claims: claims.length, released }, 'could not enqueue claims; released their leases');
      throw error;
    }
  }

  private async round() {
    const { dispatched, full } = await this.dispatchOnce();
    if (full) return pauseFor(this.backlogPollMs);
    if (dispatched === 0) return pauseUntil(await earliestDue(this.deps.db));
    return again;
  }
}
