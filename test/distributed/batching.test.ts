/**
 * The StepWorker runs the jobs it holds as batches: one job per claim on the queue, but one
 * lease take-over statement and one `Executor.runBatch` for the jobs that arrive together. The
 * MicroBatcher's rules are checked alone (no servers); the worker against PostgreSQL + Redis.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { claimDue, type Claim } from '../../src/db/enrollments.ts';
import { QUEUE_NAME, jobs, keyPrefix, type ExecuteNodePayload } from '../../src/engine/bullmq/jobs.ts';
import { MicroBatcher, StepWorker, batchSizeFor } from '../../src/engine/bullmq/worker.ts';
import { Executor } from '../../src/engine/executor.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { count, distributedAvailable, seed, startCluster, type Cluster } from './harness.ts';

const available = await distributedAvailable();

/** A promise with its resolve in hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('MicroBatcher', () => {
  it('items handed in together run as one batch, and every caller hears when it ends', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => void runs.push(items), { maxBatch: 100 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(runs).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('a full batch starts at once; the rest wait for the next turn', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => void runs.push(items), { maxBatch: 3 });
    const all = [1, 2, 3, 4, 5].map((n) => batcher.add(n));
    expect(runs).toEqual([[1, 2, 3]]); // synchronously, on the third add
    await Promise.all(all);
    expect(runs).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('a batch that throws rejects every one of its callers', async () => {
    const batcher = new MicroBatcher<number>(async () => Promise.reject(new Error('database down')), { maxBatch: 10 });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.add(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(results.map((r) => (r as PromiseRejectedResult).reason.message)).toEqual(['database down', 'database down', 'database down']);
  });

  it('with maxRunning batches running, what arrives gathers and runs when one ends', async () => {
    const runs: number[][] = [];
    const first = gate();
    const batcher = new MicroBatcher<number>(
      async (items) => {
        runs.push(items);
        if (runs.length === 1) await first.promise;
      },
      { maxBatch: 100, maxRunning: 1 },
    );
    const a = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toEqual([[1]]); // a lone job starts on the next turn: no added latency
    const rest = [2, 3, 4].map((n) => batcher.add(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toEqual([[1]]);
    expect(batcher.held).toBe(3);
    first.open();
    await Promise.all([a, ...rest]);
    expect(runs).toEqual([[1], [2, 3, 4]]);
  });

  it('close() starts what it holds at once, even mid-linger, and waits for it', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => void runs.push(items), { maxBatch: 100, lingerMs: 60_000 });
    const all = [1, 2].map((n) => batcher.add(n));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runs).toEqual([]);
    await batcher.close();
    expect(runs).toEqual([[1, 2]]);
    await Promise.all(all);
  });

  it('batch size is half the jobs in flight, at most 100', () => {
    expect(batchSizeFor(200)).toBe(100);
    expect(batchSizeFor(1000)).toBe(100);
    expect(batchSizeFor(8)).toBe(4);
    expect(batchSizeFor(1)).toBe(1);
  });
});

describe.skipIf(!available)('StepWorker batches', () => {
  let cluster: Cluster;
  let queue: Queue;
  let worker: StepWorker | undefined;
  const connections: Redis[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    queue = new Queue(QUEUE_NAME, { connection: new Redis(cluster.redisUrl, { maxRetriesPerRequest: null }), prefix: keyPrefix(cluster.prefix).queue });
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    vi.restoreAllMocks();
    await queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await queue?.close();
    for (const c of connections) c.disconnect();
    await cluster?.close();
  }, 30_000);

  /** The engine's deps, with every lease take-over statement counted. */
  function countingDeps(takeOvers: number[]): ReturnType<typeof depsOf> {
    const deps = depsOf();
    const db: Db = {
      ...deps.db,
      query: (sql, params) => {
        if (/update enrollments e set lease_id = \$3/.test(sql)) takeOvers.push((params?.[0] as unknown[]).length);
        return deps.db.query(sql, params);
      },
    };
    return { ...deps, db };
  }
  const depsOf = () => cluster.kit.engine.deps;

  function startWorker(deps: ReturnType<typeof depsOf>, options: { lingerMs?: number } = {}): StepWorker {
    const connection = new Redis(cluster.redisUrl, { maxRetriesPerRequest: null });
    connections.push(connection);
    worker = new StepWorker(deps, { connection, prefix: keyPrefix(cluster.prefix).queue, concurrency: 200, ...options });
    worker.start();
    return worker;
  }

  async function claimAll(sequenceId: string): Promise<Claim[]> {
    const now = new Date(Date.now() + 60_000);
    const claims = await claimDue(cluster.db, { now, limit: 1000, leaseUntil: new Date(now.getTime() + 60_000), leaseId: randomUUID() });
    const ours = await cluster.db.query<{ id: string }>(`select id from enrollments where sequence_id = $1`, [sequenceId]);
    const ids = new Set(ours.map((r) => r.id));
    return claims.filter((c) => ids.has(c.enrollmentId));
  }

  async function enqueue(payloads: ExecuteNodePayload[]): Promise<void> {
    const { executeNode } = jobs;
    await queue.addBulk(payloads.map((data) => ({ name: executeNode.name, data, opts: { ...executeNode.options, jobId: executeNode.jobId(data) } })));
  }

  const payloadOf = (c: Claim): ExecuteNodePayload => ({ enrollmentId: c.enrollmentId, leaseId: c.leaseId, dueAt: c.dueAt.toISOString() });

  it('jobs waiting together: one take-over statement and one runBatch; a stale job is a no-op', async () => {
    const sequenceId = await seed(cluster, 6);
    const claims = await claimAll(sequenceId);
    expect(claims).toHaveLength(6);
    // A stale job: its enrollment was re-claimed since, under another lease.
    const stale = { ...payloadOf(claims[0]!), leaseId: randomUUID() };
    await enqueue([...claims.map(payloadOf), stale]);

    const takeOvers: number[] = [];
    const runBatch = vi.spyOn(Executor.prototype, 'runBatch');
    startWorker(countingDeps(takeOvers), { lingerMs: 200 }); // a linger, so the test does not lean on BullMQ's fetch timing
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 7, 'all seven jobs to complete', 20_000);

    expect(takeOvers).toEqual([7]);
    expect(runBatch).toHaveBeenCalledTimes(1);
    expect(runBatch.mock.calls[0]![0].map((c) => c.enrollmentId).sort()).toEqual(claims.map((c) => c.enrollmentId).sort());
    expect((await queue.getJobCounts('failed')).failed).toBe(0); // the stale job completed, doing nothing
    expect(await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequenceId])).toBe(6);
    expect(await count(cluster.db, `select count(*)::int as n from sequence_executions where sequence_id = $1`, [sequenceId])).toBe(18);
  });

  it('only stale jobs: no runBatch at all', async () => {
    const sequenceId = await seed(cluster, 2);
    const claims = await claimAll(sequenceId);
    await enqueue(claims.map((c) => ({ ...payloadOf(c), leaseId: randomUUID() })));
    const runBatch = vi.spyOn(Executor.prototype, 'runBatch');
    startWorker(depsOf());
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 2, 'both jobs to complete', 20_000);
    expect(runBatch).not.toHaveBeenCalled();
    // Still held under the lease the dispatcher took: only that lease's own job may run them.
    expect(await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and lease_id is not null and status = 'active'`, [sequenceId])).toBe(2);
  });

  it('stop() runs what the batcher holds at once and waits for it', async () => {
    const sequenceId = await seed(cluster, 4);
    const claims = await claimAll(sequenceId);
    const runBatch = vi.spyOn(Executor.prototype, 'runBatch');
    const takeOvers: number[] = [];
    // The batcher would hold them for ten minutes: a stop() that waited for the linger would run
    // into the test's own timeout, so returning at all proves it ran them at once.
    const w = startWorker(countingDeps(takeOvers), { lingerMs: 600_000 });
    await enqueue(claims.map(payloadOf));
    // Held by the batcher, not merely fetched: a job whose processor starts after stop() gives its lease back instead.
    await waitFor(async () => w.heldJobs === 4, 'the worker to hold all four jobs', 20_000);
    expect(runBatch).not.toHaveBeenCalled();
    await w.stop();
    worker = undefined;
    expect(takeOvers).toEqual([4]);
    expect(runBatch).toHaveBeenCalledTimes(1);
    expect(runBatch.mock.calls[0]![0]).toHaveLength(4);
    expect(await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequenceId])).toBe(4);
    expect((await queue.getJobCounts('completed')).completed).toBe(4);
  });
});
