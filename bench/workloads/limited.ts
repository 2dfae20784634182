/**
 * G. A limited channel (issue 21): N texts and N emails due at one instant in one workspace,
 * texts limited to 50 per second per sender (the engine's rate-limit gate, in process). Measured:
 * the emails' drain rate against the emails alone in the same invocation, the texts' rate, and
 * claims per step (a text deferred by the limit and claimed again at its slot counts twice).
 */
import type { Db } from '../../src/db/db.ts';
import { MemoryLimiter, rateLimitGate } from '../../src/delivery/rateLimited.ts';
import { sleep } from '../lib/stats.ts';
import { benchEngine, createFixture, enrollSql, insertLeadsSql, leadInMs } from '../lib/fixture.ts';

export const SMS_LIMIT_PER_SECOND = 50;

const ALWAYS = {
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
};
const ONE_EMAIL = { name: 'Bench: one email', ...ALWAYS, steps: [{ id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello' }] };
const ONE_TEXT = { name: 'Bench: one text', ...ALWAYS, steps: [{ id: 'intro', type: 'sms', text: 'Hi {{ lead.firstName }}' }] };

export interface LimitedRun {
  /** Emails per second, from the due instant to the last email. */
  emailsPerSecond: number;
  /** Texts per second between the first and the last (absent when none ran). */
  smsPerSecond?: number;
  claimsPerStep: number;
}

export async function limitedRun(db: Db, args: { emails: number; texts: number; timeoutMs: number }): Promise<LimitedRun> {
  const email = await createFixture(db, 'limited', ONE_EMAIL);
  const text = args.texts > 0 ? await createFixture(db, 'limited', ONE_TEXT) : undefined;
  const inserting = performance.now();
  const emailLeads = await insertLeadsSql(db, email, args.emails);
  const textLeads = text ? await insertLeadsSql(db, text, args.texts, 10_000_000) : [];
  const insertMs = performance.now() - inserting;
  const limits = {
    email: { perSecond: 0, perSenderPerSecond: 0 },
    sms: { perSecond: 0, perSenderPerSecond: SMS_LIMIT_PER_SECOND },
    voice: { perSecond: 0, perSenderPerSecond: 0 },
    maxWaitMs: 20_000,
  };
  const { engine } = benchEngine(db, { batchSize: 100, sendGate: rateLimitGate(new MemoryLimiter(), limits) });
  engine.dispatcher.start();
  await sleep(50);
  const dueAt = new Date(Date.now() + leadInMs(args.emails + args.texts, insertMs));
  // Interleaved in due order: both kinds share every batch.
  await enrollSql(db, email, emailLeads, dueAt, 1);
  if (text) await enrollSql(db, text, textLeads, dueAt, 1);
  engine.wake();
  const deadline = Date.now() + args.timeoutMs;
  for (;;) {
    const [row] = await db.query<{ left: boolean }>(
      `select exists (select 1 from enrollments where status in ('active', 'waiting') and next_execution_at is not null) as left`,
    );
    if (!row?.left) break;
    if (Date.now() > deadline) throw new Error('limited run timed out');
    await sleep(100);
  }
  await engine.dispatcher.stop();
  const rows = await db.query<{ channel: string; n: number; first: Date; last: Date }>(
    `select channel, count(*)::int as n, min(started_at) as first, max(coalesce(completed_at, started_at)) as last
     from sequence_executions where status = 'succeeded' group by channel`,
  );
  const of = (channel: string) => rows.find((r) => r.channel === channel);
  const e = of('email')!;
  const s = of('sms');
  if (e.n !== args.emails || (s?.n ?? 0) !== args.texts) throw new Error(`limited run: ${e.n} emails and ${s?.n ?? 0} texts of ${args.emails} and ${args.texts}`);
  return {
    emailsPerSecond: args.emails / ((e.last.getTime() - dueAt.getTime()) / 1000),
    smsPerSecond: s && s.n > 1 ? (s.n - 1) / ((s.last.getTime() - s.first.getTime()) / 1000) : undefined,
    claimsPerStep: engine.dispatcher.claimsTaken / (args.emails + args.texts),
  };
}
