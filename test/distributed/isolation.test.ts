/**
 * Issue 14 on PostgreSQL + BullMQ, with real `touchpoint worker` processes and an API process
 * of its own (this test process: `createRuntime` without a worker, as `serve --no-worker`).
 * - One bad enrollment never holds up another: a poison enrollment in a batch with healthy ones
 *   of two workspaces fails alone, is `failed` after exactly MAX_CONSECUTIVE_FAILURES attempts
 *   (a metric counts it), and an operator's retry puts it back.
 * - Controls act within a second: with a lease of 60 s, resume (of an enrollment paused while
 *   its job was queued), skip and an outcome run the next step within ~2 s.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { claimDue } from '../../src/db/enrollments.ts';
import { QUEUE_NAME, jobs, keyPrefix, type ExecuteNodePayload } from '../../src/engine/bullmq/jobs.ts';
import { StepWorker } from '../../src/engine/bullmq/worker.ts';
import { Executor } from '../../src/engine/executor.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { createEngineKit, lead } from '../helpers/engineKit.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { count, distributedAvailable, metricValue, scrape, startCluster, threeSteps, type Cluster } from './harness.ts';

const available = await distributedAvailable();

const ALWAYS = {
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
};

const withTask = {
  name: 'Email, task, email',
  ...ALWAYS,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
    { id: 'todo', type: 'task', title: 'Call them', outcomes: ['done'] },
    { id: 'bye', type: 'email', subject: 'Bye', body: 'Bye' },
  ],
};

let leads = 0;

describe.skipIf(!available)('distributed isolation and controls', () => {
  let cluster: Cluster | undefined;
  let api: Runtime | undefined;
  let queue: Queue | undefined;
  let worker: StepWorker | undefined;
  let connection: Redis | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await worker?.stop();
    connection?.disconnect();
    worker = undefined;
    connection = undefined;
    await queue?.close();
    await api?.close();
    await cluster?.close();
    cluster = undefined;
    api = undefined;
    queue = undefined;
  });

  /** This process as the API server with `--no-worker`: its engine wakes the leader through Redis. */
  async function apiRuntime(c: Cluster): Promise<Runtime> {
    const config = parseConfig({
      DATABASE_URL: c.databaseUrl,
      REDIS_URL: c.redisUrl,
      REDIS_PREFIX: c.prefix,
      LEASE_SECONDS: '60',
      USE_MOCK_SEQUENCE_DELIVERY: 'true',
      MOCK_CALL_OUTCOME: 'none',
      LOG_LEVEL: 'silent',
    });
    return createRuntime(config, { worker: false, db: c.db });
  }

  const sentSteps = async (c: Cluster, enrollmentId: string) =>
    (
      await c.db.query<{ step: string }>(
        `select split_part(idempotency_key, ':', 2) as step from mock_outbox where idempotency_key like $1 order by sent_at`,
        [`${enrollmentId}:%`],
      )
    ).map((r) => r.step);

  const enrollmentRow = async (c: Cluster, id: string) =>
    (
      await c.db.query<{ status: string; step: string | null; failures: number; reason: string | null }>(
        `select status, current_step_id as step, consecutive_failures as failures, status_reason as reason from enrollments where id = $1`,
        [id],
      )
    )[0]!;

  /** A poison enrollment beside healthy ones, every one of them due now; answers the ids. */
  async function poisonAndHealthy(c: Cluster): Promise<{ poison: string; healthy: string[]; healthySequences: string[] }> {
    const other = await createEngineKit(c.db, { start: new Date().toISOString(), workspace: `${c.prefix}-b` });
    const poisonSequence = await c.kit.addSequence({
      name: 'Poison',
      ...ALWAYS,
      steps: [
        { id: 'pause', type: 'wait', duration: 'P1D' },
        { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
      ],
    });
    // A definition the API (and enroll) would refuse, written straight into the store once the
    // lead is enrolled, as a version stored before today's rules: the wait overflows.
    const [poison] = await c.kit.enrollAll(poisonSequence, await c.kit.addLeads([lead(900_000 + leads++)]));
    await c.db.query(
      `insert into sequence_versions (sequence_id, version, definition)
       select sequence_id, version + 1, jsonb_set(definition, '{steps,0,duration}', '"P999999Y"') from sequence_versions where sequence_id = $1`,
      [poisonSequence],
    );
    await c.db.query('update enrollments set sequence_version = sequence_version + 1 where id = $1', [poison]);
    const healthyA = await c.kit.addSequence(threeSteps('Healthy A'));
    const healthyB = await other.addSequence(threeSteps('Healthy B'));
    const healthy = [
      ...(await c.kit.enrollAll(healthyA, await c.kit.addLeads(Array.from({ length: 20 }, () => lead(900_000 + leads++))))),
      ...(await other.enrollAll(healthyB, await other.addLeads(Array.from({ length: 20 }, () => lead(900_000 + leads++))))),
    ];
    return { poison: poison!, healthy, healthySequences: [healthyA, healthyB] };
  }

  it('one BullMQ batch holding a poison enrollment and healthy ones of two workspaces: the healthy ones complete, the batch does not fail', async () => {
    cluster = await startCluster({ env: { LEASE_SECONDS: '60' } });
    const c = cluster;
    const { poison, healthy } = await poisonAndHealthy(c);
    const now = new Date(Date.now() + 60_000);
    const claims = await claimDue(c.db, { now, limit: 1000, leaseUntil: new Date(now.getTime() + 60_000), leaseId: randomUUID() });
    expect(claims.map((cl) => cl.enrollmentId).sort()).toEqual([poison, ...healthy].sort());
    queue = new Queue(QUEUE_NAME, { connection: c.redis, prefix: keyPrefix(c.prefix).queue });
    await queue.addBulk(
      claims.map((cl) => {
        const data: ExecuteNodePayload = { enrollmentId: cl.enrollmentId, leaseId: cl.leaseId, dueAt: cl.dueAt.toISOString() };
        return { name: jobs.executeNode.name, data, opts: { ...jobs.executeNode.options, jobId: jobs.executeNode.jobId(data) } };
      }),
    );
    const runBatch = vi.spyOn(Executor.prototype, 'runBatch');
    connection = new Redis(c.redisUrl, { maxRetriesPerRequest: null });
    // A linger gathers every job into one batch, so the test does not lean on BullMQ's fetch timing.
    worker = new StepWorker(c.kit.engine.deps, { connection, prefix: keyPrefix(c.prefix).queue, concurrency: 200, lingerMs: 200 });
    worker.start();
    await waitFor(async () => (await queue!.getJobCounts('completed', 'failed')).completed === claims.length, 'every job to complete', 20_000);
    expect(runBatch).toHaveBeenCalledTimes(1);
    expect(runBatch.mock.calls[0]![0].map((cl) => cl.enrollmentId)).toContain(poison);
    expect((await queue.getJobCounts('failed')).failed).toBe(0);
    for (const id of healthy) expect((await enrollmentRow(c, id)).status, 'a healthy enrollment of the batch').toBe('completed');
    expect(await enrollmentRow(c, poison)).toMatchObject({ status: 'active', step: 'pause', failures: 1 });
  }, 60_000);

  it('touchpoint worker: a poison enrollment never delays healthy ones of two workspaces; it is failed after exactly 3 attempts, counted in /metrics, and retry puts it back', async () => {
    const port = 20_000 + Math.floor(Math.random() * 5_000);
    // A ten-minute lease: the healthy enrollments completing within two minutes of the worker's
    // start cannot have waited for a failed batch's lease to run out (no duration is asserted).
    cluster = await startCluster({ env: { LEASE_SECONDS: '600', MAX_CONSECUTIVE_FAILURES: '3' } });
    const c = cluster;
    api = await apiRuntime(c);
    const { poison, healthySequences } = await poisonAndHealthy(c);

    // Everything is due before the worker starts: its first claim holds them all, poison included.
    // The deadline runs from the worker's start (spawnWorker returns once it logs so).
    await c.spawnWorker({ WORKER_METRICS_PORT: String(port) });
    const completed = () =>
      count(c.db, `select count(*)::int as n from enrollments where sequence_id = any($1::uuid[]) and status = 'completed'`, [healthySequences]);
    await waitFor(async () => (await completed()) === 40, 'the healthy enrollments of both workspaces to complete', 120_000);

    await waitFor(async () => (await enrollmentRow(c, poison)).status === 'failed', 'the poison enrollment to fail', 40_000);
    const failed = await enrollmentRow(c, poison);
    expect(failed).toMatchObject({ status: 'failed', step: 'pause', failures: 3 });
    expect(failed.reason).toMatch(/^step_error: step "pause" failed 3 times in a row: Invalid time value/);
    const changes = await c.db.query<{ action: string; to: string; reason: string }>(
      `select action, to_status as to, reason from enrollment_changes where enrollment_id = $1 order by at`,
      [poison],
    );
    expect(changes.map((ch) => `${ch.action}:${ch.to}`)).toEqual(['enroll:active', 'fail:failed']);
    expect(metricValue(await scrape(port), 'touchpoint_enrollments_failed_total{reason="step_error"}')).toBe(1);
    expect(metricValue(await scrape(port), 'touchpoint_step_executions_total{type="wait",status="error"}')).toBe(3);

    // Retry from the API process: back to active, due now, and the worker tries it again at once.
    const retried = await api.engine.act({ enrollmentId: poison, action: 'retry', actor: 'op' });
    expect(retried.ok).toBe(true);
    await waitFor(async () => (await enrollmentRow(c, poison)).failures === 1, 'the retried enrollment to run again', 5_000);
    expect((await enrollmentRow(c, poison)).status).toBe('active');
  }, 300_000);

  // The leader's idle sleep is ten minutes here (DISPATCHER_MAX_IDLE_SECONDS), and the claim this
  // test takes holds its lease as long: a step that runs within a minute of its control can only
  // have been woken by that control, never by a poll or a lease running out. No duration is
  // asserted; the minute is room for a loaded machine.
  const IDLE_SECONDS = 600;
  const WOKEN_MS = 60_000;
  it('resume of an enrollment paused while its job was queued, skip and an outcome are woken by the control, not by a poll or a lease', async () => {
    const port = 20_000 + Math.floor(Math.random() * 5_000);
    cluster = await startCluster({ env: { LEASE_SECONDS: '60', DISPATCHER_MAX_IDLE_SECONDS: String(IDLE_SECONDS) } });
    const c = cluster;
    api = await apiRuntime(c);
    const sequenceId = await c.kit.addSequence(withTask);
    await c.spawnWorker({ WORKER_METRICS_PORT: String(port) });
    await waitFor(async () => metricValue(await scrape(port), 'touchpoint_dispatcher_leader') === 1, 'the worker to lead', 10_000);

    // Resume. The leader sleeps (nothing due, and enrolling through the kit does not wake it), so
    // this test takes the claim itself and queues its job as the dispatcher does, after a pause.
    const [paused] = await c.kit.enrollAll(sequenceId, await c.kit.addLeads([lead(950_000 + leads++)]));
    const now = new Date();
    const claims = await claimDue(c.db, { now, limit: 100, leaseUntil: new Date(now.getTime() + IDLE_SECONDS * 1000), leaseId: randomUUID() });
    const claim = claims.find((cl) => cl.enrollmentId === paused);
    expect(claim, 'the claim (the leader was asleep)').toBeDefined();
    expect((await api.engine.act({ enrollmentId: paused!, action: 'pause', actor: 'op' })).ok).toBe(true);
    queue = new Queue(QUEUE_NAME, { connection: c.redis, prefix: keyPrefix(c.prefix).queue });
    const data: ExecuteNodePayload = { enrollmentId: claim!.enrollmentId, leaseId: claim!.leaseId, dueAt: claim!.dueAt.toISOString() };
    const job = await queue.add(jobs.executeNode.name, data, { ...jobs.executeNode.options, jobId: jobs.executeNode.jobId(data) });
    await waitFor(async () => (await job.getState()) === 'completed', 'the worker to take the queued job (a no-op: paused)', 10_000);
    expect(await sentSteps(c, paused!)).toEqual([]);
    expect((await api.engine.act({ enrollmentId: paused!, action: 'resume', actor: 'op' })).ok).toBe(true);
    await waitFor(async () => (await sentSteps(c, paused!)).length === 1, 'the resumed step to run', WOKEN_MS);

    // Skip and an outcome, each on an enrollment waiting on its task.
    const enrolled = await api.engine.enroll({ workspaceId: c.kit.workspaceId, sequenceId, leadIds: await c.kit.addLeads([lead(950_000 + leads++), lead(950_000 + leads++)]), actor: 'op' });
    if (!enrolled.ok) throw new Error(enrolled.message);
    const [skipped, outcome] = enrolled.enrolled.map((e) => e.enrollmentId);
    for (const id of [skipped!, outcome!, paused!]) {
      await waitFor(async () => (await enrollmentRow(c, id)).status === 'waiting', 'the task to wait', 5_000);
    }
    expect((await api.engine.act({ enrollmentId: skipped!, action: 'skip', actor: 'op' })).ok).toBe(true);
    await waitFor(async () => (await sentSteps(c, skipped!)).includes('bye'), 'the step after the skipped task', WOKEN_MS);

    expect((await api.engine.recordOutcome({ enrollmentId: outcome!, outcome: 'done', actor: 'op' })).ok).toBe(true);
    await waitFor(async () => (await sentSteps(c, outcome!)).includes('bye'), 'the step after the task done', WOKEN_MS);
  }, 300_000);
});
