import { randomUUID } from 'node:crypto';
/**
 * Events in and out in distributed mode (issue 18): `touchpoint worker` processes deliver
 * outbound webhooks from the database outbox — a worker SIGKILLed while a receiver holds its
 * posts open loses nothing (another worker delivers every event once its lease runs out); and a
 * custom event posted to the API (serve --no-worker) wakes a branch waiting for it through the
 * leader's wake-up channel: with the leader's idle sleep set to ten minutes, a branch that moves
 * before the test's deadline (a tenth of that) can only have been woken by the push. How fast
 * the wake-up is, is measured in bench/events.ts (docs/BENCHMARKS.md), not asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config.ts';
import { createEndpoint } from '../../src/db/webhookEndpoints.ts';
import { createToken } from '../../src/db/workspaces.ts';
import { lead } from '../helpers/engineKit.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { count, distributedAvailable, seed, startCluster, threeSteps, type Cluster } from './harness.ts';

const available = await distributedAvailable();
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WEBHOOK_ENV = { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_POLL_MS: '100' };

describe.skipIf(!available)('outbound webhooks in distributed mode', () => {
  let cluster: Cluster;
  let receiver: Receiver;

  beforeAll(async () => {
    cluster = await startCluster({ env: WEBHOOK_ENV });
    receiver = await startReceiver();
    receiver.secrets = [SECRET];
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
    await receiver?.close();
  }, 30_000);

  it('a worker SIGKILLed mid-delivery loses nothing: another delivers every event', async () => {
    await createEndpoint(cluster.db, {
      id: randomUUID(),
      workspaceId: cluster.kit.workspaceId,
      url: receiver.url,
      description: 'chaos',
      events: ['email.sent'],
      secret: SECRET,
      now: new Date(),
    });
    // The first worker's posts reach the receiver and are never answered: it dies holding them.
    let hanging = true;
    let firstPost!: () => void;
    const posted = new Promise<void>((resolve) => (firstPost = resolve));
    receiver.respond = () => {
      firstPost();
      return hanging ? 'hang' : 200;
    };
    const n = 40;
    const first = await cluster.spawnWorker();
    const sequenceId = await seed(cluster, n, threeSteps('Webhook chaos'));
    await posted;
    first.child.kill('SIGKILL');
    await first.exited;
    const inFlight = receiver.posts.length;
    expect(inFlight).toBeGreaterThan(0);
    hanging = false;
    await cluster.spawnWorker();
    const expected = n * 2; // two emails per enrollment
    await waitFor(
      async () =>
        (await count(cluster.db, `select count(*)::int as n from webhook_deliveries where status = 'delivered'`)) === expected,
      `all ${expected} email.sent deliveries delivered`,
      60_000,
    );
    expect(await count(cluster.db, `select count(*)::int as n from sequence_executions where sequence_id = $1 and channel = 'email' and status = 'succeeded'`, [sequenceId])).toBe(expected);
    const acknowledged = new Set(receiver.acknowledged().map((p) => p.id));
    const ids = await cluster.db.query<{ id: string }>(`select message_id as id from webhook_deliveries`);
    expect(ids).toHaveLength(expected);
    for (const { id } of ids) expect(acknowledged.has(id)).toBe(true);
    expect(receiver.posts.every((p) => p.verifiedWith === 0)).toBe(true);
    // The posts the killed worker held were claimed again once their lease ran out.
    const [retried] = await cluster.db.query<{ n: number }>(`select count(*)::int as n from webhook_deliveries where attempts > 1`);
    expect(retried!.n).toBeGreaterThanOrEqual(inFlight);
  }, 120_000);
});

describe.skipIf(!available)('custom events wake a waiting branch in distributed mode', () => {
  const IDLE_SECONDS = '600';
  let cluster: Cluster;
  let api: Runtime;

  beforeAll(async () => {
    // The leader sleeps up to ten minutes with nothing due (the branch's own deadline is a week
    // away): only the wake-up explains a turn within the test's deadline.
    cluster = await startCluster({ env: { LEASE_SECONDS: '60', DISPATCHER_MAX_IDLE_SECONDS: IDLE_SECONDS } });
    api = await createRuntime(
      parseConfig({ DATABASE_URL: cluster.databaseUrl, REDIS_URL: cluster.redisUrl, REDIS_PREFIX: cluster.prefix, LEASE_SECONDS: '60', DISPATCHER_MAX_IDLE_SECONDS: IDLE_SECONDS, MOCK_CALL_OUTCOME: 'none', LOG_LEVEL: 'silent' }),
      { worker: false, db: cluster.db },
    );
    await api.app.ready();
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await cluster?.close();
  }, 30_000);

  it('a branch waiting for custom.demo_booked takes `then` by the wake-up alone, the leader\'s idle poll ten minutes away', async () => {
    await cluster.spawnWorker();
    const { token } = await createToken(cluster.db, cluster.kit.workspaceId, 'operator', 'events');
    const sequenceId = await cluster.kit.addSequence({
      name: 'Wake',
      schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
      quietHours: { start: '00:00', end: '00:00', channels: [] },
      steps: [
        { id: 'hold', type: 'branch', when: { event: 'custom.demo_booked' }, within: 'P7D', then: 'booked', else: 'done' },
        { id: 'booked', type: 'email', subject: 'See you', body: 'Great', next: 'done' },
        { id: 'done', type: 'end' },
      ],
    });
    const leadIds = await cluster.kit.addLeads([lead(700_001), lead(700_002), lead(700_003)]);
    await cluster.kit.enrollAll(sequenceId, leadIds);
    api.engine.wake();
    await waitFor(
      async () => (await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'waiting'`, [sequenceId])) === 3,
      'all three enrollments waiting at the branch',
      20_000,
    );
    // One at a time: each event's wake-up alone must bring its enrollment round.
    for (const leadId of leadIds) {
      const posted = await api.app.inject({
        method: 'POST',
        url: '/api/events',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ leadId, type: 'custom.demo_booked' }),
      });
      expect(posted.statusCode).toBe(201);
      await waitFor(
        async () =>
          (await count(cluster.db, `select count(*)::int as n from sequence_executions where lead_id = $1 and step_id = 'booked' and status = 'succeeded'`, [leadId])) === 1,
        'the branch to take then (60 s, a tenth of the idle sleep)',
        60_000,
      );
    }
    await waitFor(
      async () => (await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = $1 and status = 'completed'`, [sequenceId])) === 3,
      'all three enrollments completed',
      60_000,
    );
  }, 240_000);
});
