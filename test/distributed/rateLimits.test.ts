/**
 * Rate limits shared by every worker: three worker processes send SMS from two long codes; the
 * per-sender and per-account limits hold across them (measured at the provider: the mock
 * outbox), sends are spread rather than dropped, and every one of them goes out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLimiter, rateLimitedAdapters } from '../../src/delivery/rateLimited.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { count, distributedAvailable, seed, startCluster, type Cluster } from './harness.ts';

const available = await distributedAvailable();

const PER_SENDER = 3;
const PER_ACCOUNT = 5;

function oneSms(name: string, phone: string) {
  return {
    name,
    schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
    quietHours: { start: '00:00', end: '00:00', channels: [] },
    sender: { phone },
    steps: [{ id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' }],
  };
}

/** The most sends inside any window of `windowMs` (half-open), over sorted times. */
function maxInWindow(times: number[], windowMs = 1000): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe.skipIf(!available)('rate limits across workers', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      env: {
        RATE_LIMIT_MOCK_DELIVERY: 'true',
        RATE_LIMIT_SMS_PER_SECOND: String(PER_ACCOUNT),
        RATE_LIMIT_SMS_PER_SENDER_PER_SECOND: String(PER_SENDER),
        RATE_LIMIT_MAX_WAIT_MS: '10000',
        LEASE_SECONDS: '30',
      },
    });
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('never exceeds the per-sender or per-account rate in any second, and drops nothing', async () => {
    const a = await seed(cluster, 12, oneSms('From A', '+15550100001'));
    const b = await seed(cluster, 12, oneSms('From B', '+15550100002'));
    await Promise.all([cluster.spawnWorker(), cluster.spawnWorker(), cluster.spawnWorker()]);
    await waitFor(
      async () => (await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = any($1) and status = 'completed'`, [[a, b]])) === 24,
      'all 24 texts to go out',
      60_000,
    );
    const sends = await cluster.db.query<{ from: string; at: Date }>(
      `select payload->>'from' as "from", sent_at as at from mock_outbox where channel = 'sms' order by sent_at`,
    );
    expect(sends).toHaveLength(24);
    const all = sends.map((s) => s.at.getTime());
    const perSender = (phone: string) => sends.filter((s) => s.from === phone).map((s) => s.at.getTime());
    expect(maxInWindow(all)).toBeLessThanOrEqual(PER_ACCOUNT);
    expect(maxInWindow(perSender('+15550100001'))).toBeLessThanOrEqual(PER_SENDER);
    expect(maxInWindow(perSender('+15550100002'))).toBeLessThanOrEqual(PER_SENDER);
    // Spread, not bunched: 24 sends at 5/s take at least (24 - 1) / 5 s.
    expect(all.at(-1)! - all[0]!).toBeGreaterThanOrEqual(((24 - 1) / PER_ACCOUNT) * 1000);
    expect(await count(cluster.db, `select count(*)::int as n from sequence_executions where status <> 'succeeded'`)).toBe(0);
  }, 90_000);

  it('the in-process limiter (embedded default) spreads sends the same way', async () => {
    const mock = new MockDelivery();
    const adapters = rateLimitedAdapters(mock.adapters(), new MemoryLimiter(), {
      email: { perSecond: 0, perSenderPerSecond: 0 },
      sms: { perSecond: 0, perSenderPerSecond: 10 },
      voice: { perSecond: 0, perSenderPerSecond: 0 },
      maxWaitMs: 5000,
    });
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        adapters.sms.send({ to: `+1555000${1000 + i}`, from: '+15550100003', text: 'hi', idempotencyKey: `k${i}`, executionId: `e${i}`, enrollmentId: 'x', workspaceId: 'w' }),
      ),
    );
    expect(results.every((r) => r.kind === 'sent')).toBe(true);
    const times = mock.sends.map((s) => s.at.getTime()).sort((x, y) => x - y);
    expect(maxInWindow(times)).toBeLessThanOrEqual(10);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1000);
  });
});
