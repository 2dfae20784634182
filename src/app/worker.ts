/**
 * The distributed worker assembly (`touchpoint worker`): the same parts as the server, no REST
 * app. It runs BullMQ jobs with the shared Executor, stands for dispatcher leader (only the
 * leader claims and enqueues), listens for wake-ups, and serves /metrics and /healthz on
 * WORKER_METRICS_PORT.
 */
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { webhookSettingsOf, type Config } from '../config.ts';
import { BullMqDispatcher } from '../engine/bullmq/dispatcher.ts';
import { QUEUE_NAME, keyPrefix } from '../engine/bullmq/jobs.ts';
import { LeaderDispatcher } from '../engine/bullmq/leaderDispatcher.ts';
import { connectRedis, connectRedisFailFast, quit } from '../engine/bullmq/redis.ts';
import { createWakePublisher, subscribeWakeUps } from '../engine/bullmq/wake.ts';
import { StepWorker } from '../engine/bullmq/worker.ts';
import { systemClock } from '../engine/clock.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import { WebhookDeliverer } from '../outbound/deliverer.ts';
import { metricsPlugin, type Metrics } from '../telemetry/metrics.ts';
import { appParts } from './parts.ts';
import { inboxServiceFor } from './inbox.ts';
import { ReportUpkeep } from './reportUpkeep.ts';
import { openStore } from './runtime.ts';

export interface WorkerRuntime {
  engine: Engine<LeaderDispatcher>;
  /** Starts taking jobs and standing for leader. */
  start(): void;
  /** Graceful stop: hand leadership over, give back queued leases, finish in-flight jobs, close. */
  stop(): Promise<void>;
  /** Past the shutdown deadline: queued jobs nobody started go back at once (if this process led). */
  releaseLeases(): Promise<number>;
}

export async function createWorker(
  config: Config & { DATABASE_URL: string; REDIS_URL: string },
  options: { logger: Logger; concurrency: number },
): Promise<WorkerRuntime> {
  const { logger, concurrency } = options;
  const redisUrl = config.REDIS_URL;
  const prefixes = keyPrefix(config.REDIS_PREFIX);
  const db = await openStore(config, logger);
  const parts = appParts(config, logger);
  const { deps } = parts.engineDeps({ db, clock: systemClock, ingest: (event) => engine.ingest(event) });

  // The leader builds the reports' closed days (any process could; one is enough), when it becomes leader and hourly.
  const reports = new ReportUpkeep({ db, clock: deps.clock, logger, active: () => dispatcher.isLeader });
  const queue = new Queue(QUEUE_NAME, { connection: connectRedisFailFast(redisUrl), prefix: prefixes.queue });
  queue.on('error', (error) => logger.warn({ err: error }, 'queue connection error'));
  const dispatcher = new LeaderDispatcher(
    new BullMqDispatcher(deps, queue, { maxIdleMs: config.DISPATCHER_MAX_IDLE_SECONDS === undefined ? Math.min(30_000, deps.leaseMs) : config.DISPATCHER_MAX_IDLE_SECONDS * 1000 }),
    {
      connectionString: config.DATABASE_URL,
      applicationName: `touchpoint-dispatcher:${config.REDIS_PREFIX}:${process.pid}`,
      pollMs: Math.max(250, Math.min(2000, deps.leaseMs / 5)),
      logger,
      onChange: (leader) => {
        deps.observer?.leadership?.(leader);
        if (leader) void reports.tick();
      },
    },
    logger,
  );
  const engine = createEngine(deps, { dispatcher, onWake: parts.onWake });

  const workerRedis = connectRedis(redisUrl);
  // Finished jobs rarely leave work due at once; one wake-up per quarter second is plenty.
  const jobWakes = createWakePublisher(redisUrl, prefixes.wakeChannel, logger, 250);
  const steps = new StepWorker(deps, { connection: workerRedis, prefix: prefixes.queue, concurrency, onJobDone: () => jobWakes.publish() });
  // Outbound webhooks: every worker claims due deliveries from the database (no queue between).
  const deliverer = new WebhookDeliverer({ db, clock: deps.clock, logger, settings: webhookSettingsOf(config), openSecret: parts.openSecret, observer: deps.observer, live: parts.live });
  // Every worker runs the inbox service; the leases give each mailbox one watcher cluster-wide.
  const inbox = inboxServiceFor(config, { deps, engine, logger });
  const unsubscribe = await subscribeWakeUps(redisUrl, prefixes.wakeChannel, () => dispatcher.wake());
  parts.watch(db, deps.clock, () => queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'));
  // What this worker's steps and inbox change reaches the API servers' live streams.
  await parts.relayLive(db, { listen: false });
  const server = config.WORKER_METRICS_PORT ? await metricsServer(config, parts.metrics, () => dispatcher.isLeader) : undefined;

  return {
    engine,
    start() {
      steps.start();
      dispatcher.start();
      deliverer.start();
      inbox?.start();
      reports.start();
      logger.info({ concurrency, metricsPort: config.WORKER_METRICS_PORT || null, prefix: prefixes.queue }, 'worker started');
    },
    async stop() {
      await dispatcher.stop(); // stops dispatching and hands leadership to a standby
      await steps.stop(); // waits for in-flight jobs; jobs fetched after this give their lease back
      await deliverer.stop(); // finishes the posts under way
      await inbox?.stop(); // gives the mailbox watches back to the other workers
      await reports.stop(); // finishes the day it is building
      await Promise.all([unsubscribe(), jobWakes.close(), queue.close().catch(() => undefined), server?.close()]);
      await quit(workerRedis);
      await parts.close();
      await db.close();
    },
    releaseLeases: async () => (await dispatcher.releaseHeld()) + (await deliverer.releaseHeld()),
  };
}

async function metricsServer(config: Config, metrics: Metrics, isLeader: () => boolean): Promise<FastifyInstance> {
  const server = Fastify();
  await metricsPlugin(server, { metrics, token: config.METRICS_TOKEN });
  server.get('/healthz', async () => ({ status: 'ok', leader: isLeader() }));
  await server.listen({ port: config.WORKER_METRICS_PORT, host: config.HOST });
  return server;
}
