/**
 * Failures in the middle of a distributed run: Redis wiped, PostgreSQL connections killed, the
 * dispatcher leader killed, a worker stopped with SIGTERM. Each run completes with nothing lost
 * and nothing sent twice. Redis is wiped with FLUSHDB on a logical database of this suite's own
 * (what FLUSHALL or a restart without persistence does to it), so parallel suites keep theirs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/waitFor.ts';
import { audit, count, distributedAvailable, metricValue, scrape, seed, startCluster, threeSteps, type Cluster } from './harness.ts';

const available = await distributedAvailable();

const completed = (cluster: Cluster, sequenceId: string) =>
  count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequenceId]);

async function healthz(port: number): Promise<{ leader: boolean } | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { leader: boolean };
  } catch {
    return undefined;
  }
}

describe.skipIf(!available)('distributed resilience', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('Redis wiped mid-run: the dispatcher re-enqueues from the database; nothing lost or doubled', async () => {
    cluster = await startCluster({ redisDb: 7 });
    const c = cluster;
    const sequenceId = await seed(c, 400);
    await Promise.all([c.spawnWorker(), c.spawnWorker()]);
    await waitFor(async () => (await completed(c, sequenceId)) >= 100, 'a quarter of the run', 60_000);
    await c.redis.flushdb();
    await waitFor(async () => (await completed(c, sequenceId)) === 400, 'every enrollment to complete after the wipe', 60_000);
    const result = await audit(c.db, sequenceId);
    expect(result).toMatchObject({ completed: 400, executions: 1200, distinctKeys: 1200, duplicateSends: 0, succeededWithoutOneSend: 0, other: 0 });
    expect(result.succeeded).toBe(1200); // no process died, so no outcome is unknown
  }, 120_000);

  it('PostgreSQL connections terminated mid-run: workers reconnect with backoff; nothing lost or doubled', async () => {
    cluster = await startCluster();
    const c = cluster;
    const sequenceId = await seed(c, 400);
    await Promise.all([c.spawnWorker(), c.spawnWorker()]);
    await waitFor(async () => (await completed(c, sequenceId)) >= 100, 'a quarter of the run', 60_000);
    const [{ n: terminated }] = await c.db.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where application_name = $1 or application_name like $2`,
      [`touchpoint-worker:${c.prefix}`, `touchpoint-dispatcher:${c.prefix}:%`],
    ) as [{ n: number }];
    expect(terminated).toBeGreaterThan(0);
    await waitFor(async () => (await completed(c, sequenceId)) === 400, 'every enrollment to complete after the terminations', 60_000);
    const result = await audit(c.db, sequenceId);
    expect(result).toMatchObject({ completed: 400, executions: 1200, distinctKeys: 1200, duplicateSends: 0, succeededWithoutOneSend: 0, other: 0 });
    // A query killed between a send and its outcome commit leaves that send `unknown`, never resent.
    expect(result.succeeded + result.unknown).toBe(1200);
  }, 120_000);

  it('two dispatchers started at once: only one dispatches; kill it and the other takes over within the lease', async () => {
    cluster = await startCluster();
    const c = cluster;
    const ports = [19_471 + Math.floor(Math.random() * 500), 0];
    ports[1] = ports[0]! + 1;
    const workers = await Promise.all(ports.map((port) => c.spawnWorker({ WORKER_METRICS_PORT: String(port) })));
    const leaderIndex = await waitFor(async () => {
      const states = await Promise.all(ports.map(healthz));
      const leaders = states.map((s, i) => (s?.leader ? i : -1)).filter((i) => i >= 0);
      expect(leaders.length).toBeLessThanOrEqual(1);
      return leaders.length === 1 ? leaders[0]! + 1 : 0;
    }, 'one leader', 20_000) - 1;
    const standbyIndex = 1 - leaderIndex;

    const first = await seed(c, 100);
    await waitFor(async () => (await completed(c, first)) === 100, 'the first batch', 60_000);
    const dispatched = await Promise.all(ports.map(async (port) => metricValue(await scrape(port), 'touchpoint_dispatched_total')));
    expect(dispatched[leaderIndex]).toBeGreaterThanOrEqual(100);
    expect(dispatched[standbyIndex]).toBe(0);
    expect((await healthz(ports[standbyIndex]!))?.leader).toBe(false);

    const killedAt = Date.now();
    workers[leaderIndex]!.child.kill('SIGKILL');
    await waitFor(async () => (await healthz(ports[standbyIndex]!))?.leader, 'the standby to take over', 5_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(5_000); // LEASE_SECONDS=5

    const second = await seed(c, 50, threeSteps('After takeover'));
    await waitFor(async () => (await completed(c, second)) === 50, 'the batch after the takeover', 60_000);
    expect(metricValue(await scrape(ports[standbyIndex]!), 'touchpoint_dispatched_total')).toBeGreaterThanOrEqual(50);
  }, 120_000);

  it('SIGTERM: stops claiming, finishes in-flight steps, gives back its leases, exits 0', async () => {
    cluster = await startCluster();
    const c = cluster;
    const sequenceId = await seed(c, 500);
    const worker = await c.spawnWorker();
    await waitFor(async () => (await completed(c, sequenceId)) >= 100, 'some progress', 60_000);
    worker.child.kill('SIGTERM');
    expect(await waitFor(() => worker.exited.then((code) => ({ code })), 'a clean exit', 30_000)).toEqual({ code: 0 });

    // Nothing half-done, nothing held: what is left is due now for whoever comes next.
    expect(await count(c.db, `select count(*)::int as n from sequence_executions where sequence_id = $1 and status in ('started', 'unknown')`, [sequenceId])).toBe(0);
    expect(await count(c.db, `select count(*)::int as n from enrollments where sequence_id = $1 and lease_id is not null`, [sequenceId])).toBe(0);
    const left = await count(c.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status <> 'completed'`, [sequenceId]);
    expect(left).toBeGreaterThan(0);
    expect(await count(c.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'active' and next_execution_at <= now()`, [sequenceId])).toBe(left);

    await c.spawnWorker();
    await waitFor(async () => (await completed(c, sequenceId)) === 500, 'the rest to complete on a new worker', 60_000);
    const result = await audit(c.db, sequenceId);
    expect(result).toMatchObject({ completed: 500, executions: 1500, succeeded: 1500, duplicateSends: 0, succeededWithoutOneSend: 0 });
  }, 120_000);
});
