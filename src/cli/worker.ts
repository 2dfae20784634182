/**
 * `touchpoint worker [--concurrency N]`: one distributed worker process. It runs BullMQ jobs
 * with the shared Executor, stands for dispatcher leader (only the leader claims and enqueues),
 * and serves /metrics and /healthz on WORKER_METRICS_PORT. SIGTERM: stop claiming, finish
 * in-flight steps, give back leases not started, exit; past SHUTDOWN_TIMEOUT_SECONDS, or on a
 * second signal, exit anyway (src/cli/shutdown.ts).
 */
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import type { Config } from '../config.ts';
import { BullMqDispatcher } from '../engine/bullmq/dispatcher.ts';
import { QUEUE_NAME, keyPrefix } from '../engine/bullmq/jobs.ts';
import { LeaderElection } from '../engine/bullmq/leader.ts';
import { connectRedis, connectRedisFailFast, quit } from '../engine/bullmq/redis.ts';
import { createWakePublisher, subscribeWakeUps } from '../engine/bullmq/wake.ts';
import { StepWorker } from '../engine/bullmq/worker.ts';
import { createRuntime } from '../runtime.ts';
import { dispatchMetrics, metricsPlugin, watchEngine } from '../telemetry/metrics.ts';
import { createLogger } from '../telemetry/logger.ts';
import { CliError } from './errors.ts';
import { handleSignals } from './shutdown.ts';

class WorkerCommandError extends CliError {}

export async function runWorker(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { concurrency: { type: 'string' } } });
  const concurrency = values.concurrency === undefined ? config.WORKER_CONCURRENCY : Number.parseInt(values.concurrency, 10);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WorkerCommandError('--concurrency must be a whole number of at least 1.');
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    throw new WorkerCommandError('touchpoint worker needs DATABASE_URL (PostgreSQL) and REDIS_URL; the embedded default runs its worker inside `touchpoint serve`.');
  }
  const redisUrl = config.REDIS_URL;
  const logger = createLogger(config.LOG_LEVEL).child({ role: 'worker', pid: process.pid });
  const prefixes = keyPrefix(config.REDIS_PREFIX);

  const runtime = await createRuntime(config, { logger, worker: false });
  const { deps } = runtime.engine;
  const queue = new Queue(QUEUE_NAME, { connection: connectRedisFailFast(redisUrl), prefix: prefixes.queue });
  queue.on('error', (error) => logger.warn({ err: error }, 'queue connection error'));
  const workerRedis = connectRedis(redisUrl);
  const dispatcher = new BullMqDispatcher(deps, queue, { maxIdleMs: Math.min(30_000, deps.leaseMs) });
  // Finished jobs rarely leave work due at once; one wake-up per quarter second is plenty.
  const wakes = createWakePublisher(redisUrl, prefixes.wakeChannel, logger, 250);
  const worker = new StepWorker(deps, { connection: workerRedis, prefix: prefixes.queue, concurrency, onJobDone: () => wakes.publish() });
  const leader = new LeaderElection({
    connectionString: config.DATABASE_URL,
    applicationName: `touchpoint-dispatcher:${config.REDIS_PREFIX}:${process.pid}`,
    pollMs: Math.max(250, Math.min(2000, deps.leaseMs / 5)),
    logger,
    onChange: (isLeader) => {
      dispatchMetrics.leader(isLeader);
      if (isLeader) dispatcher.start();
      else void dispatcher.stop();
    },
  });
  const unsubscribe = await subscribeWakeUps(redisUrl, prefixes.wakeChannel, () => dispatcher.wake());
  const stopWatching = watchEngine({
    db: runtime.db,
    clock: deps.clock,
    queueCounts: () => queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'),
    cacheMs: config.METRICS_CACHE_SECONDS * 1000,
  });

  const metrics = config.WORKER_METRICS_PORT ? Fastify() : undefined;
  if (metrics) {
    await metricsPlugin(metrics, { token: config.METRICS_TOKEN });
    metrics.get('/healthz', async () => ({ status: 'ok', leader: leader.isLeader }));
    await metrics.listen({ port: config.WORKER_METRICS_PORT, host: config.HOST });
  }
  worker.start();
  leader.start();
  logger.info({ concurrency, metricsPort: config.WORKER_METRICS_PORT || null, prefix: prefixes.queue }, 'worker started');

  let wasLeader = false;
  handleSignals({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    graceful: async () => {
      wasLeader = leader.isLeader;
      await leader.stop(); // stops dispatching and hands leadership to a standby
      await dispatcher.stop();
      if (wasLeader) {
        const released = await dispatcher.releaseWaiting().catch(() => 0);
        logger.info({ released }, 'gave back the leases of queued jobs nobody had started');
      }
      await worker.stop(); // waits for in-flight jobs; jobs fetched after this give their lease back
      stopWatching();
      await Promise.all([unsubscribe(), wakes.close(), queue.close().catch(() => undefined), metrics?.close()]);
      await quit(workerRedis);
      await runtime.close();
    },
    // Past the deadline: queued jobs nobody started go back at once; steps still running keep
    // their lease and run again when it runs out (LEASE_SECONDS), each guarded by its intent row.
    forced: async () => {
      if (wasLeader) logger.warn({ released: await dispatcher.releaseWaiting() }, 'gave back the leases of queued jobs');
    },
  });
  return -1; // keep running
}
