/**
 * A distributed: PostgreSQL + BullMQ, N worker processes assembled exactly as
 * `touchpoint worker` assembles one (src/app/worker.ts: leader election, the BullMQ dispatcher
 * on the leader, a StepWorker in every process, wake-ups over Redis), but with the bench's mock
 * adapters that persist nothing. Timed from `go` until every enrollment has completed. Each
 * process runs at `touchpoint worker`'s default concurrency (DISTRIBUTED_CONCURRENCY).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { configSchema } from '../../src/config.ts';
import { openPostgresBench, REDIS_URL } from '../lib/databases.ts';
import { benchEngine, countCompleted, STEPS_PER_ENROLLMENT } from '../lib/fixture.ts';
import { runWorkersTo, type ChildRun, type Session, type Workers } from '../lib/processes.ts';
import { resetStore } from '../lib/reset.ts';
import { closeKeptDatabase, keptDatabase } from './children.ts';
import { seedDueNow, type ThroughputRun } from './throughput.ts';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

export async function distributedAvailable(): Promise<boolean> {
  const needed = ['engine/bullmq/dispatcher.ts', 'engine/bullmq/worker.ts', 'engine/bullmq/leader.ts', 'engine/bullmq/wake.ts', 'engine/bullmq/jobs.ts'];
  if (!needed.every((file) => existsSync(join(SRC, file)))) return false;
  try {
    await import('../../src/engine/bullmq/dispatcher.ts');
    await import('../../src/engine/bullmq/worker.ts');
    return true;
  } catch {
    return false;
  }
}

/**
 * `touchpoint worker`'s default concurrency. Not the peers' per-process concurrency (8): a
 * worker holds jobs in order to run them as batches, so jobs in flight is its batching knob.
 */
export const DISTRIBUTED_CONCURRENCY: number = configSchema.shape.WORKER_CONCURRENCY.parse(undefined);

/**
 * One schema per workload (migrated once, truncated before each run) and a new Redis key
 * prefix per run. The worker processes live for the whole workload and keep their database
 * pool; each run assembles a new worker (queue, dispatcher, StepWorker, leader election,
 * wake-ups) in them. `concurrency` is the peers' and is not used: see DISTRIBUTED_CONCURRENCY.
 */
export async function distributedSession(args: { leads: number; workers: Workers; concurrency?: number; timeoutMs: number }): Promise<Session<ThroughputRun>> {
  const { workers } = args;
  const store = await openPostgresBench(4);
  return {
    run: async () => {
      const prefix = `bench-${randomBytes(4).toString('hex')}`;
      try {
        await resetStore(store.db);
        await seedDueNow(store.db, args.leads);
        await workers.prepare([store.url!, REDIS_URL, prefix, DISTRIBUTED_CONCURRENCY]);
        const seconds = await runWorkersTo(workers, () => countCompleted(store.db), args.leads, args.timeoutMs);
        const steps = args.leads * STEPS_PER_ENROLLMENT;
        return { steps, seconds, stepsPerSecond: steps / seconds };
      } finally {
        await deleteKeys(`${prefix}*`);
      }
    },
    close: async () => {
      await store.close();
    },
  };
}

export async function deleteKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** One run in a worker process (bench/child.ts `distributed`), on the process's kept pool. */
export async function prepareDistributedChild(url: string, redisUrl: string, prefix: string, concurrency: number): Promise<ChildRun> {
  const { Queue } = await import('bullmq');
  const { BullMqDispatcher } = await import('../../src/engine/bullmq/dispatcher.ts');
  const { QUEUE_NAME, keyPrefix } = await import('../../src/engine/bullmq/jobs.ts');
  const { LeaderElection } = await import('../../src/engine/bullmq/leader.ts');
  const { connectRedis, connectRedisFailFast, quit } = await import('../../src/engine/bullmq/redis.ts');
  const { createWakePublisher, subscribeWakeUps } = await import('../../src/engine/bullmq/wake.ts');
  const { StepWorker } = await import('../../src/engine/bullmq/worker.ts');

  // As `touchpoint worker` opens it (the default pool of 10): batches need few connections.
  const db = await keptDatabase(url);
  const { engine } = benchEngine(db);
  const { deps } = engine;
  const prefixes = keyPrefix(prefix);
  const queue = new Queue(QUEUE_NAME, { connection: connectRedisFailFast(redisUrl), prefix: prefixes.queue });
  const workerRedis = connectRedis(redisUrl);
  const dispatcher = new BullMqDispatcher(deps, queue, { maxIdleMs: Math.min(30_000, deps.leaseMs) });
  const wakes = createWakePublisher(redisUrl, prefixes.wakeChannel, undefined, 250);
  const worker = new StepWorker(deps, { connection: workerRedis, prefix: prefixes.queue, concurrency, onJobDone: () => wakes.publish() });
  const leader = new LeaderElection({
    connectionString: url,
    applicationName: `touchpoint-bench:${prefix}:${process.pid}`,
    pollMs: Math.max(250, Math.min(2000, deps.leaseMs / 5)),
    onChange: (isLeader) => {
      if (isLeader) dispatcher.start();
      else void dispatcher.stop();
    },
  });
  const unsubscribe = await subscribeWakeUps(redisUrl, prefixes.wakeChannel, () => dispatcher.wake());
  return {
    start: () => {
      worker.start();
      leader.start();
    },
    stop: async () => {
      await leader.stop();
      await dispatcher.stop();
      await worker.stop();
      await Promise.all([unsubscribe(), wakes.close(), queue.close().catch(() => undefined)]);
      await quit(workerRedis);
    },
  };
}

export const closeDistributedChild = closeKeptDatabase;
