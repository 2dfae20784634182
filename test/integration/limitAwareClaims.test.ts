/**
 * Limit-aware claims (issue 21; docs/ENGINE.md, "Limit-aware claims"): a send held by a rate
 * limit is deferred to its reserved slot before its intent, so it never holds back the other
 * sends of its batch, and its enrollment is not claimed again before that slot. Mechanism tests
 * on a manual clock, on PGlite and PostgreSQL; the rates are bench G's business.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gatesInOrder } from '../../src/delivery/gates.ts';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryLimiter, rateLimitGate } from '../../src/delivery/rateLimited.ts';
import { RedisLimiter } from '../../src/delivery/redisLimiter.ts';
import type { GateRequest, SendGate } from '../../src/delivery/types.ts';
import type { AiWriter } from '../../src/delivery/writer/types.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, statusCounts, type EngineKit } from '../helpers/engineKit.ts';
import type { Db } from '../../src/db/db.ts';
import { waitFor } from '../helpers/waitFor.ts';

const kinds = await databaseKinds();
const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await redisReachable();

async function redisReachable(): Promise<boolean> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  const up = await redis.connect().then(() => redis.ping()).then(() => true, () => false);
  redis.disconnect();
  if (!up && process.env.CI === 'true') throw new Error(`Redis is not reachable at ${TEST_REDIS_URL}; under CI=true that fails the run.`);
  return up;
}

const SMS_PER_SECOND = 2;
const limits = {
  email: { perSecond: 0, perSenderPerSecond: 0 },
  sms: { perSecond: 0, perSenderPerSecond: SMS_PER_SECOND },
  voice: { perSecond: 0, perSenderPerSecond: 0 },
  maxWaitMs: 20_000,
};

const oneStep = (type: 'email' | 'sms') => ({
  name: `One ${type}`,
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [type === 'email' ? { id: 'hello', type, subject: 'Hi', body: 'Hello' } : { id: 'hello', type, text: 'Hello' }],
});

/**
 * Moves the kit's clock on in steps of `stepMs` for up to `forMs` (the loop may not be asleep on
 * the clock yet when the first step comes) until `completed` enrollments have completed.
 */
async function advanceUntilCompleted(kit: EngineKit, db: Db, completed: number, clock: { forMs: number; stepMs: number }, what: string): Promise<void> {
  const until = kit.clock.now().getTime() + clock.forMs;
  await waitFor(async () => {
    if (kit.clock.now().getTime() < until) kit.clock.advance(clock.stepMs);
    return (await statusCounts(db)).completed === completed;
  }, what);
}

describe('the limiter’s reservations', () => {
  it('keeps a deferred send’s place for its key, and admits by the window of sends let through', async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    const bucket: [string, number] = ['sms:sender:+1', 2];
    expect(await limiter.reserve([bucket], 'a')).toBe(0);
    const waitB = await limiter.reserve([bucket], 'b');
    const waitC = await limiter.reserve([bucket], 'c');
    expect(waitB).toBe(510); // one emission interval (500 ms) with the 2 % headroom
    expect(waitC).toBe(1020);
    // Asking again early answers the same place; at it, b goes, taking no new place.
    expect(await limiter.reserve([bucket], 'b')).toBe(waitB);
    now += waitB;
    expect(await limiter.reserve([bucket], 'b')).toBe(0);
    // A new send queues after c, not before it.
    expect(await limiter.reserve([bucket], 'd')).toBe(1530 - 510);
    // c and d both come back late (a stall), at the same instant: the window (2 sends in
    // 1.02 s, counted over the sends let through) admits both,
    now = 1_002_000;
    expect(await limiter.reserve([bucket], 'c')).toBe(0);
    expect(await limiter.reserve([bucket], 'd')).toBe(0);
    // and the next send waits its queue place (40 ms), then for the window: never a third in 1.02 s.
    expect(await limiter.reserve([bucket], 'e')).toBe(40);
    now += 40;
    expect(await limiter.reserve([bucket], 'e')).toBe(980);
    now += 980;
    expect(await limiter.reserve([bucket], 'e')).toBe(0);
  });
});

describe('the limiter’s window queue', () => {
  it('spaces the sends the window turns back one interval apart, so they do not come back bunched', async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    const bucket: [string, number] = ['sms:sender:+1', 2]; // window: 2 sends in any 1,020 ms
    expect(await limiter.reserve([bucket], 'a')).toBe(0);
    expect(await limiter.queue([bucket], ['b', 'c', 'd', 'f'])).toEqual([510, 1020, 1530, 2040]);
    // A stall: b, c and d come back together at d's place. b and c go (a is 1.53 s old); the
    // window turns d back to 1,020 ms after them.
    now += 1530;
    expect(await limiter.reserve([bucket], 'b')).toBe(0);
    expect(await limiter.reserve([bucket], 'c')).toBe(0);
    expect(await limiter.reserve([bucket], 'd')).toBe(1020);
    // f, at its place, finds the window full too: it comes back one interval after d, not with it.
    now += 510;
    expect(await limiter.reserve([bucket], 'f')).toBe(1020);
    // At their times each goes: d first, f 510 ms later.
    now += 510;
    expect(await limiter.reserve([bucket], 'd')).toBe(0);
    expect(await limiter.reserve([bucket], 'f')).toBe(510);
  });
});

describe('the limiter’s slip', () => {
  it('moves every place kept behind a send the window turns back at the head of its queue, once', async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    const bucket: [string, number] = ['sms:sender:+1', 2]; // places 510 ms apart; window: 2 sends in any 1,020 ms
    expect(await limiter.reserve([bucket], 'a')).toBe(0);
    expect(await limiter.queue([bucket], ['b', 'c', 'd', 'e', 'f'])).toEqual([510, 1020, 1530, 2040, 2550]);
    // A stall: b and c come back together at d's place and go; d, at the head, finds the window
    // full for 1,020 ms: it slips by 1,020 ms, and so does every place behind it.
    now += 1530;
    expect(await limiter.reserve([bucket], 'b')).toBe(0);
    expect(await limiter.reserve([bucket], 'c')).toBe(0);
    expect(await limiter.reserve([bucket], 'd')).toBe(1020);
    expect(await limiter.queue([bucket], ['e', 'f'])).toEqual([2040 + 1020 - 1530, 2550 + 1020 - 1530]);
    // A new send queues after them.
    expect(await limiter.reserve([bucket], 'g')).toBe(3060 - 1530 + 1020);
    // At the moved places each goes at once: the stall cost its length once, not a turn-back each.
    now += 1020;
    expect(await limiter.reserve([bucket], 'd')).toBe(0);
    now += 510;
    expect(await limiter.reserve([bucket], 'e')).toBe(0);
    now += 510;
    expect(await limiter.reserve([bucket], 'f')).toBe(0);
    now += 510;
    expect(await limiter.reserve([bucket], 'g')).toBe(0);
  });

  it('a straggler (its place already passed by the queue) moves nothing', async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    const bucket: [string, number] = ['sms:sender:+1', 2];
    expect(await limiter.queue([bucket], ['s', 'a', 'b', 'c'])).toEqual([0, 510, 1020, 1530]);
    // s never comes (its worker stalled); a and b go at their places.
    now += 510;
    expect(await limiter.reserve([bucket], 'a')).toBe(0);
    now += 510;
    expect(await limiter.reserve([bucket], 'b')).toBe(0);
    // s comes back late, with the window full: turned back, but c keeps its place.
    expect(await limiter.reserve([bucket], 's')).toBe(510);
    expect(await limiter.queue([bucket], ['c'])).toEqual([510]);
  });

  it.skipIf(!redisUp)('the same on Redis, whose clock it reads', async () => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
    const prefix = `test:slip:${randomUUID()}`;
    const limiter = new RedisLimiter(redis, prefix);
    // Redis' clock cannot be moved: the test waits as long as the limiter says, then asks again.
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const sendAtPlace = async (key: string) => {
      const deadline = Date.now() + 10_000;
      for (let wait = await limiter.reserve([bucket], key); wait > 0; wait = await limiter.reserve([bucket], key)) {
        if (Date.now() > deadline) throw new Error(`${key} never went`);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    };
    const bucket: [string, number] = ['sms:sender:+1', 2];
    try {
      expect(await limiter.reserve([bucket], 'a')).toBe(0);
      await limiter.queue([bucket], ['b', 'c', 'd', 'e']);
      // A stall: b and c come back together at d's place (told by the limiter, on Redis' clock)
      // and go; d, at its place, finds the window full (b and c just went) for about a second:
      // it slips, and e's place moves back with it.
      await pause(await limiter.reserve([bucket], 'd'));
      expect(await limiter.reserve([bucket], 'b')).toBe(0);
      expect(await limiter.reserve([bucket], 'c')).toBe(0);
      const d = await limiter.reserve([bucket], 'd');
      const [e] = await limiter.queue([bucket], ['e']);
      expect(d).toBeGreaterThan(0);
      // e's place is one interval after d's new one (less the ms between the two calls), not at or
      // before it (its old place, where the window would turn it back too).
      expect(e! - d).toBeGreaterThanOrEqual(400);
      expect(e! - d).toBeLessThanOrEqual(511);
      await sendAtPlace('d');
      // At its moved place e goes at once.
      await pause(await limiter.reserve([bucket], 'e'));
      expect(await limiter.reserve([bucket], 'e')).toBe(0);
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await limiter.close();
    }
  });
});

describe('the limiter’s queue for a deferred step’s backlog', () => {
  it('gives each key the next place and keeps it; reserve at that place admits it', async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    const bucket: [string, number] = ['sms:sender:+1', 2];
    expect(await limiter.reserve([bucket], 'a')).toBe(0);
    expect(await limiter.reserve([bucket], 'b')).toBe(510);
    // The backlog behind b: the next places, in the order given; a key asked again keeps its own.
    expect(await limiter.queue([bucket], ['c', 'd', 'b'])).toEqual([1020, 1530, 510]);
    // A send that was not in the backlog queues after it.
    expect(await limiter.reserve([bucket], 'e')).toBe(2040);
    now += 1020;
    expect(await limiter.reserve([bucket], 'c')).toBe(0);
  });

  it.skipIf(!redisUp)('the same on Redis, whose clock it reads', async () => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
    const prefix = `test:queue:${randomUUID()}`;
    const limiter = new RedisLimiter(redis, prefix);
    try {
      const bucket: [string, number] = ['sms:sender:+1', 2];
      expect(await limiter.reserve([bucket], 'a')).toBe(0);
      const b = await limiter.reserve([bucket], 'b');
      const queuedAt = Date.now();
      const [c, d, bAgain] = await limiter.queue([bucket], ['c', 'd', 'b']);
      // Places one emission interval (510 ms) apart. The waits of one call are read at one instant
      // of Redis' clock, so they differ by exactly the interval (± rounding to the ms); waits read
      // by two calls differ also by the time between the calls, which a loaded machine stretches:
      // that time is measured, not assumed to be a few ms.
      expect(bAgain!).toBeLessThanOrEqual(b);
      if (bAgain! > 0) {
        expect(c! - bAgain!).toBeGreaterThanOrEqual(509);
        expect(c! - bAgain!).toBeLessThanOrEqual(511);
      }
      expect(d! - c!).toBe(510);
      const e = await limiter.reserve([bucket], 'e');
      const between = Date.now() - queuedAt;
      expect(e - d!).toBeGreaterThanOrEqual(509 - between);
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await limiter.close();
    }
  });
});

describe('gates in order', () => {
  it('asks a later gate only about what the earlier ones admitted', async () => {
    const asked: string[] = [];
    const capped: SendGate = {
      admit: async (rs) => rs.map((r) => (r.sender === 'spent@x.test' ? { kind: 'later', afterMs: 3_600_000, reason: 'mailbox_daily_cap' } : { kind: 'now' })),
    };
    const counting: SendGate = {
      admit: async (rs) => rs.map((r) => (asked.push(r.key), { kind: 'now' })),
    };
    const request = (key: string, sender: string): GateRequest => ({ key, sender, channel: 'email', workspaceId: 'w', enrollmentId: key });
    const answers = await gatesInOrder([capped, counting]).admit([request('a', 'spent@x.test'), request('b', 'ok@x.test')]);
    expect(answers).toEqual([{ kind: 'later', afterMs: 3_600_000, reason: 'mailbox_daily_cap' }, { kind: 'now' }]);
    expect(asked).toEqual(['b']);
  });
});

describe.each(kinds)('limit-aware claims on %s', (kind) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase(kind);
  });
  afterEach(async () => {
    await database?.close();
  });

  it('a rate-limited send does not hold back the unlimited sends of its batch, and is not claimed again before its slot', async () => {
    const kit = await createEngineKit(database.db, {
      workspace: `limits-${kind}`,
      start: '2030-01-01T10:00:00Z',
      sendGate: (clock) => rateLimitGate(new MemoryLimiter(() => clock.now().getTime()), limits),
    });
    const [emailSeq, smsSeq] = [await kit.addSequence(oneStep('email')), await kit.addSequence(oneStep('sms'))];
    const leads = await kit.addLeads(Array.from({ length: 10 }, (_, i) => lead(i)));
    const smsIds = await kit.enrollAll(smsSeq, leads.slice(0, 5));
    await kit.enrollAll(emailSeq, leads.slice(5));
    const dispatcher = kit.engine.dispatcher;

    // One batch holds all ten: the five emails go, one text goes, four wait for their slots.
    expect(await dispatcher.tick()).toBe(10);
    const channels = () => kit.mock.sends.map((s) => s.channel);
    expect(channels().filter((c) => c === 'email')).toHaveLength(5);
    expect(channels().filter((c) => c === 'sms')).toHaveLength(1);
    const deferred = await database.db.query<{ at: Date; attempts: number; executions: number }>(
      `select e.next_execution_at as at, e.attempts,
              (select count(*)::int from sequence_executions x where x.enrollment_id = e.id) as executions
       from enrollments e where e.id = any($1) and e.status = 'active' order by e.next_execution_at`,
      [smsIds],
    );
    expect(deferred).toHaveLength(4);
    // Each at its own slot, half a second apart (2/s, with the limiter's 2 % headroom); no
    // intent was written and no attempt counted.
    const start = kit.clock.now().getTime();
    deferred.forEach((d, i) => {
      expect(d.at.getTime() - start).toBeGreaterThanOrEqual(((i + 1) * 1000) / SMS_PER_SECOND);
      expect(d.at.getTime() - start).toBeLessThan(((i + 1) * 1000) / SMS_PER_SECOND + 50);
      expect(d.executions).toBe(0);
      expect(d.attempts).toBe(0);
    });

    // Not claimed again before its slot, and exactly once at it.
    kit.clock.set(new Date(deferred[0]!.at.getTime() - 1));
    expect(await dispatcher.tick()).toBe(0);
    for (const d of deferred) {
      kit.clock.set(d.at);
      expect(await dispatcher.tick()).toBe(1);
    }
    expect(channels().filter((c) => c === 'sms')).toHaveLength(5);
    expect(dispatcher.claimsTaken).toBe(10 + 4);
    const done = await database.db.query<{ n: number }>(`select count(*)::int as n from enrollments where status = 'completed'`);
    expect(done[0]!.n).toBe(10);
  }, 60_000);

  it('in the running loop, a send deferred briefly keeps its claim and goes at its time, claimed once', async () => {
    const asked = new Map<string, number>();
    // Each send is first told to come back in 150 ms (a rate window a little short), then admitted.
    const gate: SendGate = {
      admit: async (rs) =>
        rs.map((r) => {
          asked.set(r.key, (asked.get(r.key) ?? 0) + 1);
          return asked.get(r.key) === 1 ? { kind: 'later', afterMs: 150, reason: 'rate_limited' } : { kind: 'now' };
        }),
    };
    const kit = await createEngineKit(database.db, { workspace: `carry-${kind}`, start: '2030-01-01T10:00:00Z', sendGate: () => gate });
    const smsSeq = await kit.addSequence(oneStep('sms'));
    const ids = await kit.enrollAll(smsSeq, await kit.addLeads(Array.from({ length: 3 }, (_, i) => lead(i))));
    const dispatcher = kit.engine.dispatcher;
    dispatcher.start();
    try {
      await waitFor(() => asked.size === 3, 'the three sends asked the gate');
      // Held beside the batch: still leased, nothing written back, nothing sent.
      const rows = await database.db.query<{ lease: string | null }>(`select lease_id as lease from enrollments where id = any($1)`, [ids]);
      expect(rows.every((r) => r.lease !== null)).toBe(true);
      expect(kit.mock.sends).toHaveLength(0);
      await advanceUntilCompleted(kit, database.db, 3, { forMs: 1_000, stepMs: 50 }, 'the three texts sent');
    } finally {
      await dispatcher.stop();
    }
    expect(kit.mock.sends).toHaveLength(3);
    expect(dispatcher.claimsTaken).toBe(3);
  }, 60_000);

  it('a deferred step’s due backlog is deferred to its places without being claimed: each text is claimed once, at its place', async () => {
    const kit = await createEngineKit(database.db, {
      workspace: `backlog-${kind}`,
      start: '2030-01-01T10:00:00Z',
      batchSize: 4,
      sendGate: (clock) => rateLimitGate(new MemoryLimiter(() => clock.now().getTime()), limits),
    });
    const [emailSeq, smsSeq] = [await kit.addSequence(oneStep('email')), await kit.addSequence(oneStep('sms'))];
    const leads = await kit.addLeads(Array.from({ length: 23 }, (_, i) => lead(i)));
    const texts = 20;
    const smsIds = await kit.enrollAll(smsSeq, leads.slice(0, texts));
    kit.clock.advance(1); // the emails come due just after the texts
    await kit.enrollAll(emailSeq, leads.slice(texts));
    const dispatcher = kit.engine.dispatcher;
    const sent = (channel: string) => kit.mock.sends.filter((s) => s.channel === channel).length;

    // The first batch: four texts, one goes, three are deferred to their places, and the
    // sixteen due behind them on the same step are deferred to the next places, unclaimed.
    expect(await dispatcher.tick()).toBe(4);
    expect(sent('sms')).toBe(1);
    const start = kit.clock.now().getTime();
    const deferred = await database.db.query<{ at: Date; lease: string | null; executions: number }>(
      `select e.next_execution_at as at, e.lease_id as lease,
              (select count(*)::int from sequence_executions x where x.enrollment_id = e.id) as executions
       from enrollments e where e.id = any($1) and e.status = 'active' order by e.next_execution_at`,
      [smsIds],
    );
    expect(deferred).toHaveLength(texts - 1);
    deferred.forEach((d, i) => {
      // Place i+1 of the queue: one emission interval (500 ms, 2 % headroom) after the last.
      expect(Math.abs(d.at.getTime() - start - (i + 1) * 510)).toBeLessThanOrEqual(1);
      expect(d.executions).toBe(0);
      expect(d.lease).toBeNull();
    });
    // The emails are not the texts' limit's business: due, and the next claim takes them.
    expect(await dispatcher.tick()).toBe(3);
    expect(sent('email')).toBe(3);
    expect(await dispatcher.tick()).toBe(0);

    // Each text is claimed exactly once more, at its place, and goes.
    for (const d of deferred) {
      kit.clock.set(new Date(d.at.getTime() - 1));
      expect(await dispatcher.tick()).toBe(0);
      kit.clock.set(d.at);
      expect(await dispatcher.tick()).toBe(1);
    }
    expect(sent('sms')).toBe(texts);
    // Claimed twice: only the first batch's three deferred texts.
    expect(dispatcher.claimsTaken).toBe(texts + 3 + 3);
  }, 60_000);
  it('after a stall, the step’s queue moves back by the slip: each text left is claimed once, at its moved place, and goes', async () => {
    const kit = await createEngineKit(database.db, {
      workspace: `slip-${kind}`,
      start: '2030-01-01T10:00:00Z',
      batchSize: 3,
      sendGate: (clock) => rateLimitGate(new MemoryLimiter(() => clock.now().getTime()), limits),
    });
    const smsSeq = await kit.addSequence(oneStep('sms'));
    const texts = 10;
    const smsIds = await kit.enrollAll(smsSeq, await kit.addLeads(Array.from({ length: texts }, (_, i) => lead(i))));
    const dispatcher = kit.engine.dispatcher;
    const sent = () => kit.mock.sends.length;
    const start = kit.clock.now().getTime();
    // The first batch: one text goes, two are deferred to their places (510 and 1,020 ms), and
    // the seven due behind them to the next places (1,530 ms on), unclaimed.
    expect(await dispatcher.tick()).toBe(3);
    expect(sent()).toBe(1);
    // A stall: nothing runs until the third place. The two texts whose places passed go
    // together; the third, at its place, finds the window full (two in 1.02 s) and slips.
    kit.clock.set(new Date(start + 1530));
    expect(await dispatcher.tick()).toBe(3);
    expect(sent()).toBe(3);
    const left = await database.db.query<{ at: Date }>(
      `select next_execution_at as at from enrollments where id = any($1) and status = 'active' order by next_execution_at`,
      [smsIds],
    );
    expect(left).toHaveLength(texts - 3);
    // Each text left is claimed once, at its place, and goes: the stall cost its length once.
    const claimsBefore = dispatcher.claimsTaken;
    for (const [i, row] of left.entries()) {
      kit.clock.set(new Date(row.at.getTime() - 1));
      expect(await dispatcher.tick()).toBe(0);
      kit.clock.set(row.at);
      expect(await dispatcher.tick()).toBe(1);
      expect(sent()).toBe(3 + i + 1);
    }
    expect(dispatcher.claimsTaken - claimsBefore).toBe(texts - 3);
    // Never more than the limit in any second.
    const times = kit.mock.sends.map((m) => m.at.getTime()).sort((x, y) => x - y);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(SMS_PER_SECOND);
  }, 60_000);

  it('in the running loop, a send deferred briefly queues its step’s backlog too: each text is claimed once', async () => {
    const kit = await createEngineKit(database.db, {
      workspace: `carried-backlog-${kind}`,
      start: '2030-01-01T10:00:00Z',
      batchSize: 4,
      sendGate: (clock) => rateLimitGate(new MemoryLimiter(() => clock.now().getTime()), limits),
    });
    const smsSeq = await kit.addSequence(oneStep('sms'));
    const texts = 8;
    await kit.enrollAll(smsSeq, await kit.addLeads(Array.from({ length: texts }, (_, i) => lead(i))));
    const dispatcher = kit.engine.dispatcher;
    dispatcher.start();
    try {
      // One goes; three are held beside the batch (places under 2 s out); the four due behind
      // them are deferred to the next places unclaimed, so the batch's top-up takes none of them.
      await waitFor(() => kit.mock.sends.length === 1, 'the first text');
      await advanceUntilCompleted(kit, database.db, texts, { forMs: 10_000, stepMs: 100 }, 'every text sent');
    } finally {
      await dispatcher.stop();
    }
    expect(kit.mock.sends).toHaveLength(texts);
    expect(dispatcher.claimsTaken).toBe(texts);
  }, 60_000);

  it('a send held beside the batch keeps its content: its retry is not rendered or drafted again', async () => {
    const drafts: string[] = [];
    const writer: AiWriter = {
      name: 'counting',
      draft: async (request) => {
        drafts.push(request.lead.email ?? '');
        return { kind: 'drafted', text: `Drafted #${drafts.length} for ${request.lead.firstName}`, model: 'test' };
      },
    };
    const asked = new Map<string, number>();
    // Each send is told to come back twice (150 ms each), then admitted.
    const gate: SendGate = {
      admit: async (rs) =>
        rs.map((r) => {
          asked.set(r.key, (asked.get(r.key) ?? 0) + 1);
          return asked.get(r.key)! <= 2 ? { kind: 'later', afterMs: 150, reason: 'rate_limited' } : { kind: 'now' };
        }),
    };
    const kit = await createEngineKit(database.db, { workspace: `kept-${kind}`, start: '2030-01-01T10:00:00Z', sendGate: () => gate, writer });
    const seq = await kit.addSequence({ ...oneStep('sms'), steps: [{ id: 'hello', type: 'sms', text: 'Hello {{ lead.firstName }}', useAiWriter: true }] });
    await kit.enrollAll(seq, await kit.addLeads(Array.from({ length: 3 }, (_, i) => lead(i))));
    const dispatcher = kit.engine.dispatcher;
    dispatcher.start();
    try {
      await waitFor(() => asked.size === 3, 'the three sends asked the gate');
      await advanceUntilCompleted(kit, database.db, 3, { forMs: 2_000, stepMs: 50 }, 'the three texts sent');
    } finally {
      await dispatcher.stop();
    }
    expect([...asked.values()]).toEqual([3, 3, 3]);
    // Drafted once each, and what was drafted is what went out and what the row records.
    expect(drafts).toHaveLength(3);
    expect(kit.mock.sends.map((m) => (m.payload as { text: string }).text).sort()).toEqual(['Drafted #1 for Lee0', 'Drafted #2 for Lee1', 'Drafted #3 for Lee2']);
    const rows = await database.db.query<{ text: string }>(`select rendered->>'text' as text from sequence_executions order by rendered->>'text'`);
    expect(rows.map((r) => r.text)).toEqual(['Drafted #1 for Lee0', 'Drafted #2 for Lee1', 'Drafted #3 for Lee2']);
    expect(dispatcher.claimsTaken).toBe(3);
  }, 60_000);
});
