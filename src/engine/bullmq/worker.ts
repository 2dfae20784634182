/**
 * The BullMQ worker: runs `sequence.execute_node` jobs with the same Executor as the inline
 * engine. A job first takes the lease over from the dispatcher (compare-and-swap on the lease
 * id), so a duplicated, stale or re-delivered job is a no-op; then it runs the claim exactly as
 * the inline dispatcher would.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { releaseLeases, takeOverLease } from '../../db/leases.ts';
import { workerMetrics } from '../../telemetry/metrics.ts';
import { withSpan } from '../../telemetry/tracing.ts';
import type { EngineDeps } from '../deps.ts';
import { Executor } from '../executor.ts';
import { QUEUE_NAME, jobs } from './jobs.ts';

export interface StepWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** Called after each job: what it left behind may be due at once. */
  onJobDone?: () => void;
}

export class StepWorker {
  private readonly worker: Worker;
  private stopping = false;

  constructor(
    private readonly deps: EngineDeps,
    options: StepWorkerOptions,
  ) {
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

  start(): void {
    void this.worker.run().catch((error: unknown) => this.deps.logger?.error({ err: error }, 'worker loop ended'));
  }

  /** Stops taking jobs and resolves once the in-flight ones have finished (SIGTERM). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.close();
  }

  private async process(job: Job): Promise<void> {
    const { db, clock, leaseMs } = this.deps;
    const payload = jobs.executeNode.payload.parse(job.data);
    if (this.stopping) {
      // Taken after the stop began: give the lease back so another worker runs it now.
      await releaseLeases(db, [payload], clock.now());
      return;
    }
    const now = clock.now();
    const held = await takeOverLease(db, {
      enrollmentId: payload.enrollmentId,
      fromLeaseId: payload.leaseId,
      toLeaseId: randomUUID(),
      leaseUntil: new Date(now.getTime() + leaseMs),
    });
    if (!held) return; // duplicated, stale (re-claimed after its lease ran out), or finished
    const logger = this.deps.logger?.child({
      jobId: job.id,
      workspaceId: held.workspaceId,
      enrollmentId: held.enrollmentId,
      stepId: held.stepId,
    });
    workerMetrics.started();
    try {
      await withSpan(
        'touchpoint.execute',
        { 'touchpoint.enrollment_id': held.enrollmentId, 'touchpoint.workspace_id': held.workspaceId, 'touchpoint.job_id': job.id ?? '' },
        () => new Executor({ ...this.deps, logger }).run({ enrollmentId: held.enrollmentId, leaseId: held.leaseId, dueAt: new Date(payload.dueAt) }),
      );
    } finally {
      workerMetrics.finished();
    }
  }
}
