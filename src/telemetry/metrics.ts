/**
 * Prometheus metrics (prom-client), one registry per process. Counters are fed by the engine's
 * observer seam; gauges that describe shared state (due, leased, queue depth) are read from the
 * database and the queue when Prometheus scrapes, so every process reports the same truth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countDue } from '../db/enrollments.ts';
import { countLeased } from '../db/leases.ts';
import type { Db } from '../db/db.ts';
import type { Clock } from '../engine/clock.ts';
import type { EngineObserver } from '../engine/deps.ts';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'touchpoint_process_' });

const deliveries = new Counter({
  name: 'touchpoint_deliveries_total',
  help: 'Adapter calls by channel, adapter and outcome (sent, failed, retry, aborted).',
  labelNames: ['channel', 'adapter', 'outcome'],
  registers: [registry],
});
const stepExecutions = new Counter({
  name: 'touchpoint_step_executions_total',
  help: 'Steps run, by step type and execution status.',
  labelNames: ['type', 'status'],
  registers: [registry],
});
const stepDuration = new Histogram({
  name: 'touchpoint_step_duration_seconds',
  help: 'Time spent running one step (for sends: the provider call).',
  labelNames: ['type'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
const schedulerLag = new Histogram({
  name: 'touchpoint_scheduler_lag_seconds',
  help: 'From the moment a step came due to the moment a worker started it.',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  registers: [registry],
});
const enrollmentsFailed = new Counter({
  name: 'touchpoint_enrollments_failed_total',
  help: 'Enrollments moved to failed because their step failed MAX_CONSECUTIVE_FAILURES times in a row, by reason.',
  labelNames: ['reason'],
  registers: [registry],
});
/** Other rooms (webhooks) increment this: `webhooksTotal.inc({ provider, outcome })`. */
export const webhooksTotal = new Counter({
  name: 'touchpoint_webhooks_total',
  help: 'Provider webhooks received, by provider and outcome (recorded, duplicate, rejected, …).',
  labelNames: ['provider', 'outcome'],
  registers: [registry],
});
const dispatched = new Counter({
  name: 'touchpoint_dispatched_total',
  help: 'Claims this process enqueued as sequence.execute_node jobs (non-zero only on the leader).',
  registers: [registry],
});
const leader = new Gauge({ name: 'touchpoint_dispatcher_leader', help: '1 while this process is the dispatcher leader.', registers: [registry] });
const activeJobs = new Gauge({ name: 'touchpoint_worker_active_jobs', help: 'Jobs this worker process is running now.', registers: [registry] });

export const metricsObserver: EngineObserver = {
  delivery: (channel, adapter, outcome) => deliveries.inc({ channel, adapter, outcome }),
  stepExecuted: (type, status, seconds) => {
    stepExecutions.inc({ type, status });
    stepDuration.observe({ type }, seconds);
  },
  schedulerLag: (seconds) => schedulerLag.observe(seconds),
  enrollmentFailed: (reason) => enrollmentsFailed.inc({ reason }),
};

export const dispatchMetrics = {
  dispatched: (n: number) => dispatched.inc(n),
  leader: (isLeader: boolean) => leader.set(isLeader ? 1 : 0),
};

export const workerMetrics = {
  started: () => activeJobs.inc(),
  finished: () => activeJobs.dec(),
};

interface Source {
  db: Db;
  clock: Clock;
  queueCounts?: () => Promise<Record<string, number>>;
  /** How long a scrape reuses the store's counts (METRICS_CACHE_SECONDS); 0 = count every scrape. */
  cacheMs?: number;
  cached?: { at: number; counts: Promise<{ due: number; leased: number }> };
}
const sources: Source[] = [];
const current = () => sources[sources.length - 1];

/**
 * The two store counts behind the due and in-flight gauges, run together and reused for
 * `cacheMs` of the source's clock: a scrape every second (or a dashboard per operator) then
 * costs the store two counts per window, not two per scrape.
 */
function storeCounts(source: Source): Promise<{ due: number; leased: number }> {
  const now = source.clock.now();
  const cached = source.cached;
  if (cached && now.getTime() >= cached.at && now.getTime() - cached.at < (source.cacheMs ?? 0)) return cached.counts;
  const counts = Promise.all([countDue(source.db, now).catch(() => -1), countLeased(source.db, now).catch(() => -1)]).then(([due, leased]) => ({ due, leased }));
  source.cached = { at: now.getTime(), counts };
  return counts;
}

new Gauge({
  name: 'touchpoint_enrollments_due',
  help: 'Live enrollments due now and not yet claimed (refreshed at most every METRICS_CACHE_SECONDS).',
  registers: [registry],
  async collect() {
    const source = current();
    if (source) this.set((await storeCounts(source)).due);
  },
});
new Gauge({
  name: 'touchpoint_enrollments_in_flight',
  help: 'Live enrollments leased by a dispatcher or worker right now (refreshed at most every METRICS_CACHE_SECONDS).',
  registers: [registry],
  async collect() {
    const source = current();
    if (source) this.set((await storeCounts(source)).leased);
  },
});
new Gauge({
  name: 'touchpoint_queue_jobs',
  help: 'BullMQ jobs by state (waiting, active, completed, failed, delayed).',
  labelNames: ['state'],
  registers: [registry],
  async collect() {
    const counts = await current()?.queueCounts?.().catch(() => undefined);
    for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
  },
});

/** Makes the gauges read this store (and queue); returns how to stop. */
export function watchEngine(source: Source): () => void {
  sources.push(source);
  return () => {
    const index = sources.indexOf(source);
    if (index >= 0) sources.splice(index, 1);
  };
}

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
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
export async function metricsPlugin(app: FastifyInstance, options: { token?: string } = {}): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    if (options.token) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (!metricsTokenMatches(match?.[1], options.token)) {
        return reply.status(401).send({ error: { code: 'unauthorized', message: 'Send `Authorization: Bearer <METRICS_TOKEN>`.' } });
      }
    }
    const { contentType, body } = await metricsText();
    return reply.header('content-type', contentType).send(body);
  });
}
