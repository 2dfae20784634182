/**
 * Observability in distributed mode: the API (serve --no-worker) publishes wake-ups that reach
 * the leader in a worker process, and /metrics on the worker and on the API show the named
 * series moving after a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { clusterMetricsKey, STALE_AFTER_MS } from '../../src/telemetry/clusterMetrics.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { count, distributedAvailable, metricValue, scrape, startCluster, threeSteps, type Cluster } from './harness.ts';
import { lead } from '../helpers/engineKit.ts';

const available = await distributedAvailable();

describe.skipIf(!available)('metrics and wake-ups in distributed mode', () => {
  let cluster: Cluster;
  let api: Runtime;
  const port = 20_000 + Math.floor(Math.random() * 5000);

  beforeAll(async () => {
    // A long lease: the leader's idle sleep is then long, so only a wake-up explains a quick start.
    cluster = await startCluster({ env: { LEASE_SECONDS: '60' } });
    api = await createRuntime(
      parseConfig({ DATABASE_URL: cluster.databaseUrl, REDIS_URL: cluster.redisUrl, REDIS_PREFIX: cluster.prefix, LEASE_SECONDS: '60', MOCK_CALL_OUTCOME: 'none', METRICS_TOKEN: 'metrics-test-token' }),
      { worker: false, db: cluster.db },
    );
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await cluster?.close();
  });

  it('an enrollment through the API wakes the leader; /metrics shows the run', async () => {
    await cluster.spawnWorker({ WORKER_METRICS_PORT: String(port) });
    // The leader is idle (nothing due) before the work arrives.
    await waitFor(async () => metricValue(await scrape(port), 'touchpoint_dispatcher_leader') === 1, 'the worker to lead', 20_000);
    const leadIds = await cluster.kit.addLeads(Array.from({ length: 50 }, (_, i) => lead(900_000 + i)));
    const sequenceId = await cluster.kit.addSequence(threeSteps('Metrics'));
    const enrolled = await api.engine.enroll({ workspaceId: cluster.kit.workspaceId, sequenceId, leadIds, actor: 'test' });
    expect(enrolled.ok).toBe(true);
    await waitFor(
      async () => (await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequenceId])) === 50,
      'the woken leader to run all 50 enrollments',
      20_000,
    );

    const text = await scrape(port);
    expect(metricValue(text, 'touchpoint_deliveries_total{channel="email",adapter="mock",outcome="sent"}')).toBe(100);
    expect(metricValue(text, 'touchpoint_deliveries_total{channel="sms",adapter="mock",outcome="sent"}')).toBe(50);
    expect(metricValue(text, 'touchpoint_step_executions_total{type="email",status="succeeded"}')).toBe(100);
    expect(metricValue(text, 'touchpoint_step_duration_seconds_count{type="sms"}')).toBe(50);
    expect(metricValue(text, 'touchpoint_scheduler_lag_seconds_count')).toBeGreaterThanOrEqual(50);
    expect(metricValue(text, 'touchpoint_dispatched_total')).toBeGreaterThanOrEqual(50);
    expect(metricValue(text, 'touchpoint_queue_jobs{state="completed"}')).toBeGreaterThanOrEqual(50);
    expect(metricValue(text, 'touchpoint_enrollments_due')).toBe(0);
    expect(metricValue(text, 'touchpoint_enrollments_in_flight')).toBe(0);
    expect(metricValue(text, 'touchpoint_worker_active_jobs')).toBe(0);
    expect(text).toContain('# TYPE touchpoint_webhooks_total counter');
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    expect(health).toEqual({ status: 'ok', leader: true });

    const fromApi = await api.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-test-token' } });
    expect(fromApi.statusCode).toBe(200);
    for (const series of ['touchpoint_deliveries_total', 'touchpoint_step_executions_total', 'touchpoint_step_duration_seconds',
      'touchpoint_scheduler_lag_seconds', 'touchpoint_enrollments_due', 'touchpoint_enrollments_in_flight', 'touchpoint_webhooks_total']) {
      expect(fromApi.body).toContain(`# TYPE ${series} `);
    }
  }, 60_000);

  it('the dashboard\'s figures (/metrics?scope=cluster on the API) add up every process; the API\'s own /metrics stays its own', async () => {
    const auth = { authorization: 'Bearer metrics-test-token' };
    const sent = 'touchpoint_deliveries_total{channel="email",adapter="mock",outcome="sent"}';
    // The worker publishes its counters every couple of seconds; the API adds them to its own.
    const cluster = await waitFor(async () => {
      const response = await api.app.inject({ method: 'GET', url: '/metrics?scope=cluster', headers: auth });
      return metricValue(response.body, sent) === 100 ? response.body : undefined;
    }, 'the worker\'s sends in the cluster-wide figures', 20_000);
    expect(metricValue(cluster, 'touchpoint_step_executions_total{type="sms",status="succeeded"}')).toBe(50);
    expect(metricValue(cluster, 'touchpoint_scheduler_lag_seconds_count')).toBeGreaterThanOrEqual(50);
    expect(metricValue(cluster, 'touchpoint_queue_jobs{state="completed"}')).toBeGreaterThanOrEqual(50);
    // Store gauges are read once, not added up per process.
    expect(metricValue(cluster, 'touchpoint_enrollments_due')).toBe(0);
    expect(metricValue(cluster, 'touchpoint_dispatcher_leader')).toBe(1);
    // Prometheus scrapes each process: the API's own text has none of the worker's sends.
    const own = await api.app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(metricValue(own.body, sent)).toBeNaN();
  }, 60_000);

  it('a snapshot older than STALE_AFTER_MS (a process that died) is left out and removed', async () => {
    const key = clusterMetricsKey(cluster.prefix);
    const ghost = [{ name: 'touchpoint_dispatched_total', help: 'x', type: 'counter', aggregator: 'sum', values: [{ value: 1_000_000, labels: {} }] }];
    await cluster.redis.hset(key, 'ghost:1', JSON.stringify({ at: Date.now() - STALE_AFTER_MS - 1000, metrics: ghost }));
    const response = await api.app.inject({ method: 'GET', url: '/metrics?scope=cluster', headers: { authorization: 'Bearer metrics-test-token' } });
    expect(metricValue(response.body, 'touchpoint_dispatched_total')).toBeLessThan(1_000_000);
    expect(await cluster.redis.hexists(key, 'ghost:1')).toBe(0);
  });
});
