/**
 * The BullMQ worker: runs `sequence.execute_node` jobs with the same Executor as the inline
 * engine, and in batches like it. One job is still one claim, but a job's processor only hands
 * its payload to a micro-batcher and waits for its batch. A batch takes every lease over from
 * the dispatcher in one statement (compare-and-swap on the lease id, so a duplicated, stale or
 * re-delivered job is a no-op), then runs the claims it holds with `Executor.runBatch`: three
 * round trips per round of steps whatever the batch size, instead of as many per job.
 *
 * BullMQ's `concurrency` is how many jobs the process holds at once, so it is what batches are
 * made of: by default 200 in flight, run as batches of up to 100 — one runs while the next one
 * fills up (BullMQ records the finished jobs and fetches new ones meanwhile).
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { releaseLeases, takeOverLeases } from '../../db/leases.ts';
import { withSpan } from '../../telemetry/tracing.ts';
import type { EngineDeps } from '../deps.ts';
import { Executor } from '../executor.ts';
import { QUEUE_NAME, jobs, type ExecuteNodePayload } from './jobs.ts';

/** The most jobs one batch runs (the inline dispatcher's batch size). */
export const MAX_BATCH = 100;

/**
 * Batches one process runs at once before a batch that is not full waits for one of them to
 * end (group commit): a trickle of jobs runs at once, a flood gathers into full batches.
 */
export const MAX_RUNNING_BATCHES = 2;

export interface StepWorkerOptions {
  connection: Redis;
  prefix: string;
  /**
   * Jobs this process holds at once (BullMQ's concurrency). They run as batches of up to half of
   * it (at most MAX_BATCH), so that one batch fills while another runs.
   */
  concurrency: number;
  /** Overrides the batch size derived from `concurrency` (tests, tuning). */
  maxBatch?: number;
  /**
   * How long a job that did not fill a batch waits for others before its batch starts anyway.
   * Default 0: the next turn of the event loop, which already gathers every job BullMQ hands
   * over together (it fetches them back to back and starts them in one go), adding no latency.
   */
  lingerMs?: number;
  /** Called after each job: what it left behind may be due at once. */
  onJobDone?: () => void;
}

/** Batch size for a process holding `concurrency` jobs: half of them, at most MAX_BATCH. */
export function batchSizeFor(concurrency: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.ceil(concurrency / 2)));
}

interface Waiter<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items handed in one at a time (each caller awaits its own promise) and runs them as
 * batches. A batch starts as soon as it holds `maxBatch` items; one that is not full starts
 * `lingerMs` after its first item came in (0: on the next turn of the event loop) if fewer than
 * `maxRunning` batches are running, or else as soon as one of them ends. When a batch's run
 * resolves, its callers' promises resolve; when it throws, they all reject with that error.
 * `close()` starts what is held at once and waits for every batch.
 */
export class MicroBatcher<T> {
  private pending: Array<Waiter<T>> = [];
  private timer?: { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timeout'; handle: NodeJS.Timeout };
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly run: (items: T[]) => Promise<void>,
    private readonly options: { maxBatch: number; lingerMs?: number; maxRunning?: number },
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new Error('maxBatch must be a whole number of at least 1');
  }

  /** Items held and not yet started. */
  get held(): number {
    return this.pending.length;
  }

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** Starts what is held now, in batches of at most `maxBatch`. */
  flush(): void {
    this.cancelTimer();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      const done = this.execute(batch);
      this.running.add(done);
      void done.finally(() => {
        this.running.delete(done);
        // What gathered while the running batches held every slot goes now.
        if (this.pending.length > 0 && !this.timer && this.mayStart()) this.flush();
      });
    }
  }

  /** Starts what is held and resolves once every batch has settled. */
  async close(): Promise<void> {
    this.flush();
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer =
      (this.options.lingerMs ?? 0) > 0
        ? { kind: 'timeout', handle: setTimeout(() => this.fire(), this.options.lingerMs) }
        : { kind: 'immediate', handle: setImmediate(() => this.fire()) };
  }

  private fire(): void {
    this.timer = undefined;
    if (this.mayStart()) this.flush();
  }

  private mayStart(): boolean {
    return this.running.size < (this.options.maxRunning ?? Infinity);
  }

  private cancelTimer(): void {
    if (!this.timer) return;
    if (this.timer.kind === 'immediate') clearImmediate(this.timer.handle);
    else clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  private async execute(batch: Array<Waiter<T>>): Promise<void> {
    try {
      await this.run(batch.map((w) => w.item));
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    for (const w of batch) w.resolve();
  }
}

export class StepWorker {
  private readonly worker: Worker;
  private readonly batcher: MicroBatcher<ExecuteNodePayload>;
  private readonly executor: Executor;
  private stopping = false;

  constructor(
    private readonly deps: EngineDeps,
    options: StepWorkerOptions,
  ) {
    this.executor = new Executor(deps);
    this.batcher = new MicroBatcher((payloads) => this.runBatch(payloads), {
      maxBatch: options.maxBatch ?? batchSizeFor(options.concurrency),
      lingerMs: options.lingerMs ?? 0,
      maxRunning: MAX_RUNNING_BATCHES,
    });
    this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      autorun: false,
      // Our own lease fences the work; a stalled job re-delivered later is a harmless no-op.
      maxStalledCount: 1,
    });
    this.worker.on('completed', () => options.onJobDone?.());
    this.worker.on('failed', (job, error) =>
      deps.logger?.error({ err: error, jobId: job?.id, enrollmentId: job?.data?.enrollmentId }, 'job failed; its lease will run out and it is retried'),
    );
    this.worker.on('error', (error) => deps.logger?.warn({ err: error }, 'queue connection error; BullMQ reconnects'));
  }

  /** Jobs handed to the batcher whose batch has not started yet. */
  get heldJobs(): number {
    return this.batcher.held;
  }

  start(): void {
    void this.worker.run().catch((error: unknown) => this.deps.logger?.error({ err: error }, 'worker loop ended'));
  }

  /**
   * Stops taking jobs and resolves once the in-flight ones have finished (SIGTERM): what the
   * batcher holds runs at once; a job taken after this gives its lease back.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.batcher.flush();
    await this.worker.close();
    await this.batcher.close();
  }

  private async process(job: Job): Promise<void> {
    const payload = jobs.executeNode.payload.parse(job.data);
    if (this.stopping) {
      // Taken after the stop began: give the lease back so another worker runs it now.
      await releaseLeases(this.deps.db, [payload], this.deps.clock.now());
      return;
    }
    await this.batcher.add(payload);
  }

  /** One batch of jobs: take their leases over in one statement, run the ones still held. */
  private async runBatch(payloads: ExecuteNodePayload[]): Promise<void> {
    const { db, clock, leaseMs } = this.deps;
    const now = clock.now();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const held = await takeOverLeases(db, { leases: payloads, toLeaseId: randomUUID(), leaseUntil, now });
    if (held.length === 0) return; // every job duplicated, stale (re-claimed after its lease ran out), or finished
    const dueAt = new Map(payloads.map((p) => [p.enrollmentId, p.dueAt]));
    const claims = held.map((h) => ({ enrollmentId: h.enrollmentId, leaseId: h.leaseId, dueAt: new Date(dueAt.get(h.enrollmentId)!), leaseUntil }));
    this.deps.observer?.jobsRunning?.(held.length);
    try {
      await withSpan('touchpoint.execute', { 'touchpoint.batch_size': held.length, 'touchpoint.jobs': payloads.length }, () => this.executor.runBatch(claims));
    } catch (error) {
      this.deps.logger?.error({ err: error, enrollmentIds: claims.map((c) => c.enrollmentId) }, 'step batch failed; every job of it fails');
      throw error;
    } finally {
      this.deps.observer?.jobsRunning?.(-held.length);
    }
  }
}
