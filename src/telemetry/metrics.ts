/**
 * Prometheus metrics (prom-client), one registry per runtime: `createMetrics()` makes the
 * registry, the engine's observer that feeds its counters, and its gauges. Nothing is a module
 * global, so two runtimes in one process (tests) count apart. Gauges that describe shared state
 * (due, leased, queue depth) are read from the database and the queue when Prometheus scrapes,
 * so every process reports the same truth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { countDue } from '../db/enrollments.ts';
import { countLeased } from '../db/leases.ts';
import { outboxBacklog } from '../db/webhookDeliveries.ts';
import type { Db } from '../db/db.ts';
import type { EngineObserver } from './observer.ts';

/**
 * What became of a provider webhook: per event of an accepted post (`recorded`, `duplicate`,
 * `unmatched`), or per post turned away (`rejected`: failed authentication; `refused`: unreadable,
 * too large, or from an address that keeps failing; `unavailable`: a key is not configured or the
 * store is down, and the provider retries).
 */
export type WebhookOutcome = 'recorded' | 'duplicate' | 'unmatched' | 'rejected' | 'refused' | 'unavailable';

export interface MetricsSource {
  db: Db;
  /** The engine's clock (only `now` is read): cached counts age on it. */
  clock: { now(): Date };
  queueCounts?: () => Promise<Record<string, number>>;
  /** How long a scrape reuses the store's counts (METRICS_CACHE_SECONDS); 0 = count every scrape. */
  cacheMs?: number;
}

/** The series this process counts itself (not read from the store or the queue at scrape time). */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export interface Metrics {
  readonly registry: Registry;
  /** Feeds the counters; given to the engine, the dispatchers and the workers. */
  readonly observer: EngineObserver;
  webhook(provider: string, outcome: WebhookOutcome, count?: number): void;
  /** Makes the gauges read this store (and queue); returns how to stop. */
  watch(source: MetricsSource): () => void;
  text(): Promise<{ contentType: string; body: string }>;
  /** This process's own counters and histograms, for another process to add up (clusterMetrics.ts). */
  snapshot(): Promise<MetricsSnapshot>;
}

/** What the store gauges read; -1 when the store could not be read. */
interface StoreCounts {
  due: number;
  leased: number;
  webhooksPending: { enabled: number; disabled: number };
  /** Seconds since the oldest pending delivery of an enabled endpoint was queued (0: none). */
  webhooksOldestPendingSeconds: number;
}

type CachedSource = MetricsSource & { cached?: { at: number; counts: Promise<StoreCounts> } };

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'touchpoint_process_' });
  const registers = [registry];
  const counted = {
    deliveries: new Counter({
      name: 'touchpoint_deliveries_total',
      help: 'Adapter calls by channel, adapter and outcome (sent, failed, retry, aborted).',
      labelNames: ['channel', 'adapter', 'outcome'],
      registers,
    }),
    stepExecutions: new Counter({
      name: 'touchpoint_step_executions_total',
      help: 'Steps run, by step type and execution status.',
      labelNames: ['type', 'status'],
      registers,
    }),
    stepDuration: new Histogram({
      name: 'touchpoint_step_duration_seconds',
      help: 'Time spent running one step (for sends: the provider call).',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    schedulerLag: new Histogram({
      name: 'touchpoint_scheduler_lag_seconds',
      help: 'From the moment a step came due to the moment a worker started it.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    enrollmentsFailed: new Counter({
      name: 'touchpoint_enrollments_failed_total',
      help: 'Enrollments moved to failed because their step failed MAX_CONSECUTIVE_FAILURES times in a row, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    webhooks: new Counter({
      name: 'touchpoint_webhooks_total',
      help: 'Provider webhooks: events recorded, duplicate or unmatched; posts rejected (authentication), refused or unavailable.',
      labelNames: ['provider', 'outcome'],
      registers,
    }),
    dispatched: new Counter({
      name: 'touchpoint_dispatched_total',
      help: 'Claims this process enqueued as sequence.execute_node jobs (non-zero only on the leader).',
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'touchpoint_webhook_deliveries_total',
      help: 'Outbound webhook attempts by result: delivered, retry (tried again later), failed (given up), gone (410: failed, endpoint disabled).',
      labelNames: ['result'],
      registers,
    }),
    webhookDuration: new Histogram({
      name: 'touchpoint_webhook_delivery_duration_seconds',
      help: 'How long an outbound webhook post took, to its answer or its timeout.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    webhookEndpointsDisabled: new Counter({
      name: 'touchpoint_webhook_endpoints_disabled_total',
      help: 'Outbound webhook endpoints the deliverer turned off, by reason: gone (410) or failing (a day without success).',
      labelNames: ['reason'],
      registers,
    }),
    leader: new Gauge({ name: 'touchpoint_dispatcher_leader', help: '1 while this process is the dispatcher leader.', registers }),
    activeJobs: new Gauge({ name: 'touchpoint_worker_active_jobs', help: 'Jobs this worker process is running now.', registers }),
  };

  const observer: EngineObserver = {
    delivery: (channel, adapter, outcome) => counted.deliveries.inc({ channel, adapter, outcome }),
    stepExecuted: (type, status, seconds) => {
      counted.stepExecutions.inc({ type, status });
      counted.stepDuration.observe({ type }, seconds);
    },
    schedulerLag: (seconds) => counted.schedulerLag.observe(seconds),
    enrollmentFailed: (reason) => counted.enrollmentsFailed.inc({ reason }),
    dispatched: (n) => counted.dispatched.inc(n),
    leadership: (isLeader) => counted.leader.set(isLeader ? 1 : 0),
    jobsRunning: (delta) => counted.activeJobs.inc(delta),
    webhookDelivery: (result, seconds) => {
      counted.webhookDeliveries.inc({ result });
      counted.webhookDuration.observe(seconds);
    },
    webhookEndpointDisabled: (reason) => counted.webhookEndpointsDisabled.inc({ reason }),
  };

  let source: CachedSource | undefined;
  const { queue } = storeGauges(registry, () => source);
  // What another process adds up: what this one counts, and the queue (which every worker reads alike).
  const snapshotted = [...Object.values(counted), queue];

  return {
    registry,
    observer,
    webhook: (provider, outcome, count = 1) => {
      if (count > 0) counted.webhooks.inc({ provider, outcome }, count);
    },
    watch(watched) {
      const mine = { ...watched };
      source = mine;
      return () => {
        if (source === mine) source = undefined;
      };
    },
    text: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    snapshot: () => Promise.all(snapshotted.map((metric) => metric.get())) as Promise<MetricsSnapshot>,
  };
}

/**
 * The two store counts behind the due and in-flight gauges, run together and reused for
 * `cacheMs` of the source's clock: a scrape every second (or a dashboard per operator) then
 * costs the store two counts per window, not two per scrape.
 */
function storeCounts(source: CachedSource): Promise<StoreCounts> {
  const now = source.clock.now();
  const cached = source.cached;
  if (cached && now.getTime() >= cached.at && now.getTime() - cached.at < (source.cacheMs ?? 0)) return cached.counts;
  const counts = Promise.all([
    countDue(source.db, now).catch(() => -1),
    countLeased(source.db, now).catch(() => -1),
    outboxBacklog(source.db).catch(() => undefined),
  ]).then(([due, leased, backlog]) => ({
    due,
    leased,
    webhooksPending: backlog ? { enabled: backlog.pendingEnabled, disabled: backlog.pendingDisabled } : { enabled: -1, disabled: -1 },
    webhooksOldestPendingSeconds: !backlog ? -1 : backlog.oldestPendingAt ? Math.max(0, now.getTime() - backlog.oldestPendingAt.getTime()) / 1000 : 0,
  }));
  source.cached = { at: now.getTime(), counts };
  return counts;
}

/** Gauges read at scrape time; every process reads the same store, so adding them up would lie ('first'). */
function storeGauges(registry: Registry, current: () => CachedSource | undefined): { queue: Gauge } {
  new Gauge({
    name: 'touchpoint_enrollments_due',
    help: 'Live enrollments due now and not yet claimed (refreshed at most every METRICS_CACHE_SECONDS).',
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const source = current();
      if (source) this.set((await storeCounts(source)).due);
    },
  });
  new Gauge({
    name: 'touchpoint_enrollments_in_flight',
    help: 'Live enrollments leased by a dispatcher or worker right now (refreshed at most every METRICS_CACHE_SECONDS).',
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const source = current();
      if (source) this.set((await storeCounts(source)).leased);
    },
  });
  new Gauge({
    name: 'touchpoint_webhook_deliveries_pending',
    help: 'Outbound webhook deliveries pending (due or waiting for a retry), by endpoint: enabled, or disabled (held until it is turned back on). Refreshed at most every METRICS_CACHE_SECONDS.',
    labelNames: ['endpoint'],
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const source = current();
      if (!source) return;
      const { webhooksPending } = await storeCounts(source);
      this.set({ endpoint: 'enabled' }, webhooksPending.enabled);
      this.set({ endpoint: 'disabled' }, webhooksPending.disabled);
    },
  });
  new Gauge({
    name: 'touchpoint_webhook_oldest_pending_seconds',
    help: 'Age of the oldest pending outbound webhook delivery of an enabled endpoint, from the event that queued it (0: none pending).',
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const source = current();
      if (source) this.set((await storeCounts(source)).webhooksOldestPendingSeconds);
    },
  });
  const queue = new Gauge({
    name: 'touchpoint_queue_jobs',
    help: 'BullMQ jobs by state (waiting, active, completed, failed, delayed).',
    labelNames: ['state'],
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const counts = await current()?.queueCounts?.().catch(() => undefined);
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });
  return { queue };
}

/** Compares a presented bearer token with METRICS_TOKEN in constant time. */
export function metricsTokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * `GET /metrics` in the Prometheus text format, for the worker's own metrics port (the API's
 * port serves it from the REST API, behind a token). With METRICS_TOKEN set it is required.
 */
export async function metricsPlugin(app: FastifyInstance, options: { metrics: Metrics; token?: string }): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    if (options.token) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (!metricsTokenMatches(match?.[1], options.token)) {
        return reply.status(401).send({ error: { code: 'unauthorized', message: 'Send `Authorization: Bearer <METRICS_TOKEN>`.' } });
      }
    }
    const { contentType, body } = await options.metrics.text();
    return reply.header('content-type', contentType).send(body);
  });
}
