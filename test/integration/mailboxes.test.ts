/**
 * Sending through mailboxes (issue 16) against a real SMTP server on 127.0.0.1 (AUTH, STARTTLS
 * with a self-signed certificate): the From of each mailbox arrives; new enrollments rotate
 * across mailboxes with room and stick to the first one; a mailbox's daily limit defers sends
 * to its next local day (reason on the timeline), across both DST changes in its zone (a 23- and
 * a 25-hour day), and deferred sends keep their order; the minimum
 * gap spreads a queue; a plain-text and a Markdown body each arrive as multipart/alternative
 * text + HTML; SMTP 4xx retries, 5xx fails, a dropped session after DATA is unknown;
 * and two workers racing on PostgreSQL never send one over the limit.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDefinition } from '../../src/core/validate.ts';
import type { Db } from '../../src/db/db.ts';
import { insertLeads, type NewLead } from '../../src/db/leads.ts';
import { createMailbox, mailboxSecretContext } from '../../src/db/mailboxes.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { SmtpMailboxSender } from '../../src/delivery/email/smtp.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createEngine, type InlineEngine } from '../../src/engine/engine.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer.ts';

const kinds = await databaseKinds();
const keyRing = new KeyRing(randomBytes(32));
const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const NO_QUIET = { start: '00:00', end: '00:00', channels: [] };

interface Kit {
  db: Db;
  clock: ManualClock;
  workspaceId: string;
  engine: InlineEngine;
  smtp: SmtpMailboxSender;
  newEngine(): InlineEngine;
  mailbox(name: string, settings: { dailyLimit: number; minGapSeconds?: number; timezone?: string; warmup?: { startLimit: number; days: number } }): Promise<string>;
  sequence(mailboxes: string[], extra?: Record<string, unknown>): Promise<string>;
  enroll(sequenceId: string, leads: NewLead[]): Promise<string[]>;
  close(): Promise<void>;
}

async function createKit(db: Db, server: TestSmtpServer, start: string): Promise<Kit> {
  const clock = new ManualClock(start);
  const workspace = await ensureWorkspace(db, `mbox-${randomUUID().slice(0, 8)}`);
  const smtp = new SmtpMailboxSender({ tls: { ca: server.ca }, socketTimeoutMs: 3_000, now: () => clock.now().getTime() });
  const newEngine = () =>
    createEngine(
      {
        db,
        adapters: { ...new MockDelivery({ now: () => clock.now() }).adapters(), mailbox: smtp },
        clock,
        leaseMs: 60_000,
        senders: { emailFrom: 'default@us.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
        random: () => 0.5,
        openSecret: (sealed, context) => keyRing.open(sealed, context),
      },
      { inFlightTimeoutMs: 10_000 },
    );
  const engine = newEngine();
  return {
    db,
    clock,
    workspaceId: workspace.id,
    engine,
    smtp,
    newEngine,
    async mailbox(name, settings) {
      const id = randomUUID();
      await createMailbox(
        db,
        workspace.id,
        {
          id,
          name,
          fromEmail: `${name}@acme.test`,
          fromName: `Rep ${name}`,
          smtp: { host: '127.0.0.1', port: server.port, secure: false, user: server.user },
          smtpPasswordSealed: keyRing.seal(server.password, mailboxSecretContext(id, 'smtp')),
          dailyLimit: settings.dailyLimit,
          minGapSeconds: settings.minGapSeconds ?? 0,
          timezone: settings.timezone ?? null,
          warmup: settings.warmup ?? null,
          warmupStartedOn: settings.warmup ? start.slice(0, 10) : null,
        },
        clock.now(),
      );
      return id;
    },
    async sequence(mailboxes, extra = {}) {
      const result = validateDefinition({
        name: `S ${randomUUID().slice(0, 6)}`,
        schedule: { days: ALL_DAYS, start: '09:00', end: '17:00' },
        quietHours: NO_QUIET,
        mailboxes,
        steps: [
          { id: 'intro', type: 'email', subject: 'Hello {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}' },
          { id: 'pause', type: 'wait', duration: 'PT1H' },
          { id: 'nudge', type: 'email', subject: 'Following up', body: 'Any thoughts?' },
        ],
        ...extra,
      });
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      return (await createSequence(db, workspace.id, result.definition, 'active')).id;
    },
    async enroll(sequenceId, leads) {
      const ids = (await insertLeads(db, workspace.id, leads)).map((l) => l.id);
      const result = await engine.enroll({ workspaceId: workspace.id, sequenceId, leadIds: ids, actor: 'test' });
      if (!result.ok) throw new Error(result.message);
      return ids;
    },
    close: () => smtp.close(),
  };
}

const lead = (email: string, extra: Partial<NewLead> = {}): NewLead => ({ email, firstName: email.split('@')[0], timezone: 'America/New_York', ...extra });
const sentTo = (server: TestSmtpServer, email: string) => server.received.filter((m) => m.to.includes(email));

describe.each(kinds)('mailboxes on %s', (kind) => {
  let database: TestDatabase;
  let server: TestSmtpServer;
  const kits: Kit[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    server = await startSmtpServer();
  });
  afterAll(async () => {
    for (const kit of kits) await kit.close();
    await server?.close();
    await database?.close();
  });
  const kitAt = async (start: string) => {
    const kit = await createKit(database.db, server, start);
    kits.push(kit);
    return kit;
  };

  it('rotates new enrollments across mailboxes, sticks each to its first, and defers past the daily limit to the next day', async () => {
    // Wednesday 10:00 in New York.
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const a = await kit.mailbox(`a${kind}`, { dailyLimit: 2 });
    const b = await kit.mailbox(`b${kind}`, { dailyLimit: 2 });
    const seq = await kit.sequence([a, b]);
    const emails = ['one', 'two', 'three'].map((n) => `${n}-${kind}@lead.test`);
    await kit.enroll(seq, emails.map((e) => lead(e)));
    await kit.engine.dispatcher.drain();

    const fromOf = (email: string) => sentTo(server, email).map((m) => m.from);
    expect(fromOf(emails[0]!)).toEqual([`a${kind}@acme.test`]);
    expect(fromOf(emails[1]!)).toEqual([`b${kind}@acme.test`]);
    expect(fromOf(emails[2]!)).toEqual([`a${kind}@acme.test`]);
    expect(sentTo(server, emails[0]!)[0]!.raw).toMatch(new RegExp(`^From: Rep a${kind} <a${kind}@acme.test>`, 'm'));

    // An hour later the follow-ups: b has room for one; a is full, so its two wait for tomorrow.
    kit.clock.advance(60 * 60_000);
    await kit.engine.dispatcher.drain();
    expect(fromOf(emails[1]!)).toEqual([`b${kind}@acme.test`, `b${kind}@acme.test`]);
    expect(fromOf(emails[0]!)).toHaveLength(1);
    const waiting = await kit.db.query<{ due: Date }>(
      `select next_execution_at as due from enrollments where sequence_id = $1 and status = 'active' order by due`,
      [seq],
    );
    // Thursday 09:00 New York, the first opening of a's next day.
    expect(waiting.map((w) => w.due)).toEqual([new Date('2026-03-05T14:00:00Z'), new Date('2026-03-05T14:00:00Z')]);
    const reasons = await kit.db.query<{ reason: string }>(
      `select c.reason from enrollment_changes c join enrollments e on e.id = c.enrollment_id where e.sequence_id = $1 and c.action = 'defer'`,
      [seq],
    );
    expect(reasons).toHaveLength(2);
    expect(reasons[0]!.reason).toMatch(/^mailbox_limit: mailbox a\S+ has sent 2 of its 2 emails today; deferred to 2026-03-05T14:00:00.000Z/);

    kit.clock.set(new Date('2026-03-05T14:00:00Z'));
    await kit.engine.dispatcher.drain();
    // Threads never change sender: both follow-ups from a, though b had room.
    expect(fromOf(emails[0]!)).toEqual([`a${kind}@acme.test`, `a${kind}@acme.test`]);
    expect(fromOf(emails[2]!)).toEqual([`a${kind}@acme.test`, `a${kind}@acme.test`]);
    const counts = await kit.db.query<{ mailboxId: string; day: string; sent: number }>(
      `select mailbox_id as "mailboxId", to_char(day, 'YYYY-MM-DD') as day, sent from mailbox_day_counts where mailbox_id = any($1::uuid[]) order by day, mailbox_id`,
      [[a, b]],
    );
    expect(counts.filter((c) => c.mailboxId === a)).toEqual([
      { mailboxId: a, day: '2026-03-04', sent: 2 },
      { mailboxId: a, day: '2026-03-05', sent: 2 },
    ]);
  }, 60_000);

  it("sends a first email from the lead owner's mailbox among the sequence's, and rotates when it is full", async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const owner = (await kit.db.query<{ id: string }>(`insert into users (email) values ($1) returning id`, [`owner-${kind}@acme.test`]))[0]!.id;
    await kit.db.query(`insert into memberships (workspace_id, user_id, role) values ($1, $2, 'operator')`, [kit.workspaceId, owner]);
    const a = await kit.mailbox(`oa${kind}`, { dailyLimit: 5 });
    const b = await kit.mailbox(`ob${kind}`, { dailyLimit: 1 });
    await kit.db.query('update mailboxes set owner_id = $2 where id = $1', [b, owner]);
    const seq = await kit.sequence([a, b]);
    const emails = ['o1', 'o2', 'o3'].map((n) => `${n}-${kind}@lead.test`);
    // o1 and o2 belong to the owner, o3 to nobody: o1 takes b (its owner's), o2 finds b full and rotates to a.
    await kit.enroll(seq, [lead(emails[0]!, { ownerId: owner }), lead(emails[1]!, { ownerId: owner }), lead(emails[2]!)]);
    await kit.engine.dispatcher.drain();
    const fromOf = (email: string) => sentTo(server, email).map((m) => m.from);
    expect(fromOf(emails[0]!)).toEqual([`ob${kind}@acme.test`]);
    expect(fromOf(emails[1]!)).toEqual([`oa${kind}@acme.test`]);
    expect(fromOf(emails[2]!)).toEqual([`oa${kind}@acme.test`]);
  }, 60_000);

  it("counts the day in the mailbox's zone across a DST change (a 23-hour day)", async () => {
    // Saturday 2026-03-28, 23:30 in Berlin (CET); Berlin moves to CEST on Sunday the 29th.
    const kit = await kitAt('2026-03-28T22:30:00Z');
    const box = await kit.mailbox(`dst${kind}`, { dailyLimit: 1, timezone: 'Europe/Berlin' });
    const seq = await kit.sequence([box], { schedule: { days: ALL_DAYS, start: '00:00', end: '00:00' }, steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    const berlin = (email: string) => lead(email, { timezone: 'Europe/Berlin' });
    await kit.enroll(seq, [berlin(`d1-${kind}@lead.test`), berlin(`d2-${kind}@lead.test`)]);
    await kit.engine.dispatcher.drain();
    const due = async () =>
      (await kit.db.query<{ due: Date }>(`select next_execution_at as due from enrollments where sequence_id = $1 and status = 'active'`, [seq])).map((r) => r.due);
    // One sent on Saturday; the other waits for Berlin's midnight (23:00 UTC in CET).
    expect(await due()).toEqual([new Date('2026-03-28T23:00:00Z')]);

    kit.clock.set(new Date('2026-03-28T23:00:00Z'));
    await kit.engine.dispatcher.drain();
    expect(await due()).toEqual([]);

    // Sunday 23:59 CEST: still the 29th, whose one send is spent; the 30th begins at 22:00 UTC.
    kit.clock.set(new Date('2026-03-29T21:59:00Z'));
    await kit.enroll(seq, [berlin(`d3-${kind}@lead.test`)]);
    await kit.engine.dispatcher.drain();
    expect(await due()).toEqual([new Date('2026-03-29T22:00:00Z')]);
  }, 60_000);

  it("counts the day in the mailbox's zone across the autumn DST change (a 25-hour day)", async () => {
    // Saturday 2026-10-24, 23:30 in Berlin (CEST); Berlin moves back to CET on Sunday the 25th,
    // whose day runs from 22:00 UTC on the 24th to 23:00 UTC on the 25th: 25 hours.
    const kit = await kitAt('2026-10-24T21:30:00Z');
    const box = await kit.mailbox(`dst25${kind}`, { dailyLimit: 1, timezone: 'Europe/Berlin' });
    const seq = await kit.sequence([box], { schedule: { days: ALL_DAYS, start: '00:00', end: '00:00' }, steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    const berlin = (email: string) => lead(email, { timezone: 'Europe/Berlin' });
    const due = async () =>
      (await kit.db.query<{ due: Date }>(`select next_execution_at as due from enrollments where sequence_id = $1 and status = 'active'`, [seq])).map((r) => r.due);
    await kit.enroll(seq, [berlin(`a1-${kind}@lead.test`), berlin(`a2-${kind}@lead.test`)]);
    await kit.engine.dispatcher.drain();
    // One sent on Saturday; the other waits for Berlin's midnight (22:00 UTC in CEST).
    expect(await due()).toEqual([new Date('2026-10-24T22:00:00Z')]);
    kit.clock.set(new Date('2026-10-24T22:00:00Z'));
    await kit.engine.dispatcher.drain();
    expect(await due()).toEqual([]);

    // 02:30 Berlin, twice: in CEST (00:30 UTC) and again in CET (01:30 UTC); both are still the 25th.
    for (const at of ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z']) {
      kit.clock.set(new Date(at));
      await kit.enroll(seq, [berlin(`a-${at.slice(11, 13)}-${kind}@lead.test`)]);
      await kit.engine.dispatcher.drain();
    }
    // Sunday 23:59 CET (22:59 UTC): still the 25th, 25 hours after it began; the 26th begins at 23:00 UTC.
    kit.clock.set(new Date('2026-10-25T22:59:00Z'));
    await kit.enroll(seq, [berlin(`a3-${kind}@lead.test`)]);
    await kit.engine.dispatcher.drain();
    const next = new Date('2026-10-25T23:00:00Z');
    expect(await due()).toEqual([next, next, next]);
    const counts = await kit.db.query<{ day: string; sent: number }>(
      `select to_char(day, 'YYYY-MM-DD') as day, sent from mailbox_day_counts where mailbox_id = $1 order by day`,
      [box],
    );
    expect(counts).toEqual([
      { day: '2026-10-24', sent: 1 },
      { day: '2026-10-25', sent: 1 },
    ]);
  }, 60_000);

  it('sends deferred by a spent limit keep their order: on the new day they go before sends that came due after them', async () => {
    // Wednesday 10:00 in New York; the window is 09:00–17:00.
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`order${kind}`, { dailyLimit: 2 });
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    const first = [1, 2, 3, 4].map((n) => `q${n}-${kind}@lead.test`);
    await kit.enroll(seq, first.map((e) => lead(e)));
    await kit.engine.dispatcher.drain();
    const waiting = first.filter((e) => sentTo(server, e).length === 0);
    expect(waiting).toHaveLength(2);

    // Thursday 09:30: a new lead comes due, half an hour after the deferred two (due at 09:00);
    // the worker only now gets to the queue. The two that waited go first; the newcomer waits.
    kit.clock.set(new Date('2026-03-05T14:30:00Z'));
    const late = `q5-${kind}@lead.test`;
    await kit.enroll(seq, [lead(late)]);
    await kit.engine.dispatcher.drain();
    expect(waiting.map((e) => sentTo(server, e).length)).toEqual([1, 1]);
    expect(sentTo(server, late)).toHaveLength(0);
    const [lateDue] = await kit.db.query<{ due: Date }>(
      `select e.next_execution_at as due from enrollments e join leads l on l.id = e.lead_id where l.email = $1`,
      [late],
    );
    expect(lateDue!.due).toEqual(new Date('2026-03-06T14:00:00Z'));
    kit.clock.set(new Date('2026-03-06T14:00:00Z'));
    await kit.engine.dispatcher.drain();
    expect(sentTo(server, late)).toHaveLength(1);
  }, 60_000);

  it('spreads a queue by the minimum gap instead of sending it at once', async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`gap${kind}`, { dailyLimit: 50, minGapSeconds: 300 });
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    await kit.enroll(seq, [1, 2, 3].map((n) => lead(`g${n}-${kind}@lead.test`)));
    await kit.engine.dispatcher.drain();
    const due = await kit.db.query<{ due: Date }>(
      `select next_execution_at as due from enrollments where sequence_id = $1 and status = 'active' order by due`,
      [seq],
    );
    expect(due.map((d) => d.due)).toEqual([new Date('2026-03-04T15:05:00Z'), new Date('2026-03-04T15:10:00Z')]);
    const reasons = await kit.db.query(`select 1 from enrollment_changes where action = 'defer' and reason like 'mailbox_gap%'`);
    expect(reasons).toHaveLength(0); // a short wait, not news for the timeline
  }, 60_000);

  it('follows the warm-up ramp', async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`warm${kind}`, { dailyLimit: 40, warmup: { startLimit: 2, days: 10 } });
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    await kit.enroll(seq, [1, 2, 3, 4].map((n) => lead(`w${n}-${kind}@lead.test`)));
    await kit.engine.dispatcher.drain();
    const [row] = await kit.db.query<{ sent: number }>('select sent from mailbox_day_counts where mailbox_id = $1', [box]);
    expect(row!.sent).toBe(2);
  }, 60_000);

  it("sends a subject-less follow-up as a reply in the thread, Message-IDs in the mailbox's domain", async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`thread${kind}`, { dailyLimit: 10 });
    const seq = await kit.sequence([box], {
      steps: [
        { id: 'intro', type: 'email', subject: 'Hello {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}' },
        { id: 'pause', type: 'wait', duration: 'PT1H' },
        { id: 'bump', type: 'email', body: 'Bumping this up.' },
      ],
    });
    const to = `thr-${kind}@lead.test`;
    await kit.enroll(seq, [lead(to)]);
    await kit.engine.dispatcher.drain();
    kit.clock.advance(60 * 60_000);
    await kit.engine.dispatcher.drain();
    const [first, second] = sentTo(server, to).map((m) => m.raw);
    expect(second).toBeDefined();
    const header = (raw: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1]?.trim();
    const firstId = header(first!, 'Message-ID')!;
    // The mailbox's domain, not the sequence sender's or EMAIL_FROM's (default@us.test).
    expect(firstId).toMatch(/^<[0-9a-f-]{36}@acme\.test>$/);
    expect(header(second!, 'Message-ID')).toMatch(/^<[0-9a-f-]{36}@acme\.test>$/);
    expect(header(second!, 'Subject')).toBe(`Re: Hello thr-${kind}`);
    expect(header(second!, 'In-Reply-To')).toBe(firstId);
    expect(header(second!, 'References')).toBe(firstId);
    // What went out is what the intents stored: a reply naming it finds its execution.
    const stored = await kit.db.query<{ stepId: string; messageId: string }>(
      `select step_id as "stepId", rendered ->> 'messageId' as "messageId" from sequence_executions where sequence_id = $1 and step_type = 'email' order by started_at`,
      [seq],
    );
    expect(stored.map((r) => `<${r.messageId}>`)).toEqual([firstId, header(second!, 'Message-ID')]);
  }, 60_000);

  it('a plain-text body arrives as multipart/alternative: the text as written, and its HTML escaped with the URL a link', async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`text${kind}`, { dailyLimit: 10 });
    const body = 'Hi {{ lead.firstName }},\n\nThe deck: https://us.test/deck?a=1&b=2.\nTalk soon';
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', body }] });
    const to = `txt-${kind}@lead.test`;
    await kit.enroll(seq, [lead(to, { firstName: '<script>alert(1)</script>' })]);
    await kit.engine.dispatcher.drain();
    const [mail] = sentTo(server, to);
    expect(mail!.raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.text).toContain('Hi <script>alert(1)</script>,\n\nThe deck: https://us.test/deck?a=1&b=2.\nTalk soon');
    const html = String(parsed.html);
    expect(html).toContain('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;,</p>');
    expect(html).toContain('The deck: <a href="https://us.test/deck?a=1&amp;b=2">https://us.test/deck?a=1&amp;b=2</a>.<br>');
    expect(html).not.toContain('<script>');
    // Tracking is off by default: no pixel, the link as written.
    expect(html).not.toMatch(/<img|\/t\/c\//);
  }, 60_000);

  it('a Markdown body sent through a mailbox arrives as multipart/alternative with the rendered HTML', async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`md${kind}`, { dailyLimit: 10 });
    const body = 'Hi **{{ lead.firstName }}** from {{ lead.company }},\n\n- one\n- two\n\n[Book a demo](https://us.test/demo?x=1&y=2)';
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', format: 'markdown', body }] });
    const to = `md-${kind}@lead.test`;
    await kit.enroll(seq, [lead(to, { firstName: 'Bo <b>', company: 'A&B' })]);
    await kit.engine.dispatcher.drain();
    const [mail] = sentTo(server, to);
    expect(mail!.raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.text).toContain('Hi **Bo <b>** from A&B');
    const html = String(parsed.html);
    expect(html).toContain('<p>Hi <strong>Bo &lt;b&gt;</strong> from A&amp;B,</p>');
    expect(html).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
    expect(html).toContain('<a href="https://us.test/demo?x=1&amp;y=2">Book a demo</a>');
  }, 60_000);

  it('classifies SMTP replies: 4xx retried, 5xx failed, a session lost after DATA unknown and never resent', async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`codes${kind}`, { dailyLimit: 100 });
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    const [temp, reject, vanish] = [`tempfail-${kind}@lead.test`, `reject-${kind}@lead.test`, `vanish-${kind}@lead.test`];
    await kit.enroll(seq, [lead(temp!), lead(reject!), lead(vanish!)]);
    await kit.engine.dispatcher.drain();
    const rows = await kit.db.query<{ email: string; status: string; errorCode: string | null; adapter: string }>(
      `select l.email, x.status, x.error_code as "errorCode", x.adapter from sequence_executions x join leads l on l.id = x.lead_id where x.sequence_id = $1`,
      [seq],
    );
    const of = (email: string) => rows.find((r) => r.email === email);
    expect(of(temp!)).toMatchObject({ status: 'retry_scheduled', errorCode: 'smtp_451', adapter: 'smtp' });
    expect(of(reject!)).toMatchObject({ status: 'failed', errorCode: 'smtp_550' });
    expect(of(vanish!)).toMatchObject({ status: 'unknown' });
    expect(sentTo(server, vanish!)).toHaveLength(1);
  }, 60_000);

  it.runIf(kind === 'postgres')('two workers racing for one mailbox never send one over its daily limit', async () => {
    const kit = await kitAt('2026-03-04T15:00:00Z');
    const box = await kit.mailbox(`race${kind}`, { dailyLimit: 5 });
    const seq = await kit.sequence([box], { steps: [{ id: 'only', type: 'email', subject: 'Hi', body: 'Hi' }] });
    const emails = Array.from({ length: 24 }, (_, i) => `race${i}-${kind}@lead.test`);
    await kit.enroll(seq, emails.map((e) => lead(e)));
    const second = kit.newEngine();
    await Promise.all([kit.engine.dispatcher.drain(), second.dispatcher.drain()]);
    const delivered = server.received.filter((m) => m.from === `race${kind}@acme.test`);
    expect(delivered).toHaveLength(5);
    const [count] = await kit.db.query<{ sent: number }>('select sent from mailbox_day_counts where mailbox_id = $1', [box]);
    expect(count!.sent).toBe(5);
    const [waiting] = await kit.db.query<{ n: number }>(`select count(*)::int as n from enrollments where sequence_id = $1 and status = 'active'`, [seq]);
    expect(waiting!.n).toBe(19);
  }, 60_000);
});
