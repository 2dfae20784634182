/**
 * Replies, bounces and auto-replies read from a mailbox over IMAP (issue 16, part 5), through a
 * real Dovecot on 127.0.0.1: Touchpoint sends through the local SMTP server as the rep, and the
 * answers are delivered into the rep's INBOX the way a person's mail client or an MTA would
 * (SMTP to the local host). Then: a reply exits on its thread with its own words; a hard bounce
 * exits and suppresses, a soft one does neither; an out-of-office pauses until the day it states
 * and resumes by itself; a server restart, a watcher restart and a renumbered INBOX
 * (UIDVALIDITY) miss nothing and count nothing twice; two processes share one watch.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDefinition } from '../../src/core/validate.ts';
import type { Db } from '../../src/db/db.ts';
import { readCheckpoint } from '../../src/db/inbox.ts';
import { insertLeads } from '../../src/db/leads.ts';
import { createMailbox, mailboxSecretContext } from '../../src/db/mailboxes.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { SmtpMailboxSender } from '../../src/delivery/email/smtp.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createEngine, type InlineEngine } from '../../src/engine/engine.ts';
import { InboxService } from '../../src/inbox/service.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { dovecotAvailable, startMailServers, type MailServers } from '../helpers/mailServers.ts';
import { waitFor } from '../helpers/waitFor.ts';

const kinds = await databaseKinds();
const available = dovecotAvailable();
const keyRing = new KeyRing(randomBytes(32));
const ALWAYS = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' };
const NO_QUIET = { start: '00:00', end: '00:00', channels: [] };
/** Load stretches how long a look takes, never whether it passes. */
const DEADLINE = 60_000;
const SETTINGS = { leaseMs: 60_000, pollMs: 200, backoff: { initialMs: 50, maxMs: 400 }, pauseDays: 3, maxPauseDays: 90 };

describe.skipIf(!available).each(kinds)('the mailbox INBOX over IMAP on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  let mail: MailServers;
  let clock: ManualClock;
  let engine: InlineEngine;
  let smtpSender: SmtpMailboxSender;
  let workspaceId: string;
  let mailboxId: string;
  let sequenceId: string;
  const services: InboxService[] = [];
  const rep = { user: `rep-${kind}@acme.test`, password: 'imap-Pa55!word' };

  const service = (owner: string) => {
    const s = new InboxService({
      db,
      clock,
      ingest: (event) => engine.ingest(event),
      wake: () => engine.wake(),
      openSecret: (sealed, context) => keyRing.open(sealed, context),
      settings: SETTINGS,
      tls: { ca: mail.ca },
      owner,
    });
    services.push(s);
    return s;
  };
  /** A person's mail client (or an MTA): SMTP to the local host, no AUTH, STARTTLS. */
  const client = () => nodemailer.createTransport({ host: '127.0.0.1', port: mail.smtp.port, secure: false, tls: { ca: mail.ca } });
  const events = (type: string, leadId?: string) =>
    db.query<{ id: string; data: Record<string, unknown>; enrollmentId: string | null; replyClass: string | null }>(
      `select id, data, enrollment_id as "enrollmentId", reply_class as "replyClass" from events
        where workspace_id = $1 and type = $2 and ($3::uuid is null or lead_id = $3) order by received_at, id`,
      [workspaceId, type, leadId ?? null],
    );
  const enrollmentOf = async (leadId: string) =>
    (await db.query<{ id: string; status: string; statusReason: string | null; pausedUntil: Date | null }>(
      `select id, status, status_reason as "statusReason", paused_until as "pausedUntil" from enrollments where lead_id = $1`,
      [leadId],
    ))[0]!;
  /** Enrolls a lead, sends its first email through the mailbox, answers its Message-ID. */
  const emailLead = async (name: string) => {
    const email = `${name}-${kind}@lead.test`;
    const [lead] = await insertLeads(db, workspaceId, [{ email, firstName: name, timezone: 'Europe/Berlin' }]);
    const result = await engine.enroll({ workspaceId, sequenceId, leadIds: [lead!.id], actor: 'test' });
    if (!result.ok) throw new Error(result.message);
    await engine.dispatcher.drain();
    const sent = mail.smtp.outbox.find((m) => m.to.includes(email));
    const messageId = /^Message-ID:\s*<([^>]+)>/im.exec(sent?.raw ?? '')?.[1];
    if (!messageId) throw new Error(`no email went out to ${email}`);
    return { leadId: lead!.id, email, messageId };
  };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    db = database.db;
    mail = await startMailServers([rep]);
    clock = new ManualClock('2026-03-04T15:00:00Z');
    smtpSender = new SmtpMailboxSender({ tls: { ca: mail.ca }, socketTimeoutMs: 5_000, now: () => clock.now().getTime() });
    engine = createEngine(
      {
        db,
        adapters: { ...new MockDelivery({ now: () => clock.now() }).adapters(), mailbox: smtpSender },
        clock,
        leaseMs: 60_000,
        senders: { emailFrom: 'default@us.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
        random: () => 0.5,
        openSecret: (sealed, context) => keyRing.open(sealed, context),
      },
      { inFlightTimeoutMs: 10_000 },
    );
    workspaceId = (await ensureWorkspace(db, `inbox-${randomUUID().slice(0, 8)}`, 'Europe/Berlin')).id;
    mailboxId = randomUUID();
    const server = { host: '127.0.0.1', secure: false, user: rep.user };
    await createMailbox(
      db,
      workspaceId,
      {
        id: mailboxId,
        name: 'Rep',
        fromEmail: rep.user,
        fromName: 'Rep Rita',
        smtp: { ...server, port: mail.smtp.port },
        smtpPasswordSealed: keyRing.seal(rep.password, mailboxSecretContext(mailboxId, 'smtp')),
        imap: { ...server, port: mail.imap.port },
        imapPasswordSealed: keyRing.seal(rep.password, mailboxSecretContext(mailboxId, 'imap')),
        dailyLimit: 1000,
        minGapSeconds: 0,
      },
      clock.now(),
    );
    const definition = validateDefinition({
      name: 'Inbox',
      schedule: ALWAYS,
      quietHours: NO_QUIET,
      mailboxes: [mailboxId],
      steps: [
        { id: 'intro', type: 'email', subject: 'Quick question', body: 'Hi {{ lead.firstName }}' },
        { id: 'pause', type: 'wait', duration: 'P2D' },
        { id: 'nudge', type: 'email', body: 'Any thoughts?' },
      ],
    });
    if (!definition.ok) throw new Error(JSON.stringify(definition.problems));
    sequenceId = (await createSequence(db, workspaceId, definition.definition, 'active')).id;
    service('first').start();
    // The first watch starts at the INBOX's end: wait until it has looked once.
    await waitFor(async () => (await readCheckpoint(db, mailboxId)).uidValidity !== null, 'the first look at the INBOX', DEADLINE);
  }, 60_000);

  afterAll(async () => {
    for (const s of services) await s.stop();
    await smtpSender?.close();
    await mail?.close();
    await database?.close();
  });

  it('records a reply on its thread with the words above the quote, classified, and exits the enrollment', async () => {
    const { leadId, email, messageId } = await emailLead('ann');
    await client().sendMail({
      from: `Ann <${email}>`,
      to: rep.user,
      subject: 'Re: Quick question',
      inReplyTo: `<${messageId}>`,
      references: [`<${messageId}>`],
      date: clock.now(),
      text: `Sounds interesting, can we talk on Tuesday?\n\nOn Wed, 4 Mar 2026 at 16:00, Rep Rita <${rep.user}> wrote:\n> Hi ann`,
    });
    const [reply] = await waitFor(async () => {
      const found = await events('email.replied', leadId);
      return found.length > 0 ? found : undefined;
    }, 'the reply', DEADLINE);
    expect(reply!.data.text).toBe('Sounds interesting, can we talk on Tuesday?');
    expect(reply!.enrollmentId).toBe((await enrollmentOf(leadId)).id);
    expect(reply!.replyClass).toBeTruthy();
    expect(await enrollmentOf(leadId)).toMatchObject({ status: 'exited' });
  });

  it('tells a hard bounce (exit, suppression) from a soft one (on the timeline only)', async () => {
    const hard = await emailLead('gone');
    const soft = await emailLead('full');
    const dsn = (to: string, messageId: string, status: string, action: string) =>
      [
        `From: Mail Delivery System <MAILER-DAEMON@mx.lead.test>`,
        `To: ${rep.user}`,
        `Subject: Undelivered Mail Returned to Sender`,
        `Message-ID: <${randomUUID()}@mx.lead.test>`,
        `Auto-Submitted: auto-replied`,
        `MIME-Version: 1.0`,
        `Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"`,
        ``,
        `--dsn`,
        `Content-Type: text/plain`,
        ``,
        `Your message could not be delivered.`,
        ``,
        `--dsn`,
        `Content-Type: message/delivery-status`,
        ``,
        `Reporting-MTA: dns; mx.lead.test`,
        ``,
        `Final-Recipient: rfc822; ${to}`,
        `Action: ${action}`,
        `Status: ${status}`,
        `Diagnostic-Code: smtp; ${status.startsWith('5') ? '550 5.1.1 User unknown' : '452 4.2.2 Mailbox full'}`,
        ``,
        `--dsn`,
        `Content-Type: text/rfc822-headers`,
        ``,
        `Message-ID: <${messageId}>`,
        `From: Rep Rita <${rep.user}>`,
        `Subject: Quick question`,
        ``,
        `--dsn--`,
        ``,
      ].join('\r\n');
    await client().sendMail({ envelope: { from: '', to: rep.user }, raw: dsn(hard.email, hard.messageId, '5.1.1', 'failed') });
    await client().sendMail({ envelope: { from: '', to: rep.user }, raw: dsn(soft.email, soft.messageId, '4.2.2', 'delayed') });
    const [hardBounce] = await waitFor(async () => {
      const found = await events('email.bounced', hard.leadId);
      return found.length > 0 ? found : undefined;
    }, 'the hard bounce', DEADLINE);
    expect(hardBounce!.data).toMatchObject({ bounceType: 'hard', status: '5.1.1' });
    expect(await enrollmentOf(hard.leadId)).toMatchObject({ status: 'exited' });
    const suppressed = await db.query('select 1 from suppressions where workspace_id = $1 and address = $2', [workspaceId, hard.email]);
    expect(suppressed).toHaveLength(1);

    const [softBounce] = await waitFor(async () => {
      const found = await events('email.bounced', soft.leadId);
      return found.length > 0 ? found : undefined;
    }, 'the soft bounce', DEADLINE);
    expect(softBounce!.data).toMatchObject({ bounceType: 'soft', status: '4.2.2' });
    expect(await enrollmentOf(soft.leadId)).toMatchObject({ status: 'active' });
    expect(await db.query('select 1 from suppressions where address = $1', [soft.email])).toHaveLength(0);
  });

  it('pauses on an out-of-office until the day it states, not as a reply, then resumes by itself', async () => {
    const { leadId, email, messageId } = await emailLead('away');
    await client().sendMail({
      from: email,
      to: rep.user,
      subject: 'Abwesenheitsnotiz: Quick question',
      inReplyTo: `<${messageId}>`,
      headers: { 'Auto-Submitted': 'auto-replied' },
      date: clock.now(),
      text: 'Ich bin im Urlaub und ab dem 16.03. zurück. Zurück am 16.03.2026.',
    });
    const [note] = await waitFor(async () => {
      const found = await events('email.auto_replied', leadId);
      return found.length > 0 ? found : undefined;
    }, 'the auto-reply', DEADLINE);
    expect(note!.data).toMatchObject({ returnDate: '2026-03-16', detectedBy: 'auto-submitted' });
    expect(await events('email.replied', leadId)).toHaveLength(0);
    const paused = await enrollmentOf(leadId);
    expect(paused).toMatchObject({ status: 'paused', statusReason: 'auto_reply' });
    expect(paused.pausedUntil?.toISOString()).toBe('2026-03-15T23:00:00.000Z');

    await services[0]!.tick();
    expect((await enrollmentOf(leadId)).status).toBe('paused');
    clock.set(new Date('2026-03-16T00:00:00Z'));
    await services[0]!.tick();
    expect(await enrollmentOf(leadId)).toMatchObject({ status: 'active', pausedUntil: null });
    const audit = await db.query<{ action: string; reason: string }>(
      `select action, reason from enrollment_changes where enrollment_id = $1 and action in ('pause', 'resume') order by at`,
      [paused.id],
    );
    expect(audit.map((a) => a.action)).toEqual(['pause', 'resume']);
  });

  it('reads the mailbox server’s own Authentication-Results: a failed sender stays a reply on its thread, flagged; without a thread it is unverified', async () => {
    // The watched IMAP host is 127.0.0.1, so that is the authserv-id believed; the topmost such header is the server's.
    const message = (from: string, id: string, inReplyTo: string | null, results: string[], text: string) =>
      [
        ...results.map((r) => `Authentication-Results: ${r}`),
        `From: ${from}`,
        `To: ${rep.user}`,
        `Subject: Re: Quick question`,
        `Message-ID: <${id}>`,
        ...(inReplyTo ? [`In-Reply-To: <${inReplyTo}>`] : []),
        `Date: ${clock.now().toUTCString()}`,
        ``,
        text,
        ``,
      ].join('\r\n');
    const failing = await emailLead('spoofed');
    // The server's verdict on top; below it a "pass" the sender wrote into the message itself, not believed.
    mail.imap.deliver(
      rep.user,
      message(failing.email, `fail-${kind}@lead.test`, failing.messageId, [
        `127.0.0.1; spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=${failing.email}; dkim=none; dmarc=fail header.from=lead.test`,
        `127.0.0.1; spf=pass smtp.mailfrom=lead.test; dkim=pass header.d=lead.test; dmarc=pass header.from=lead.test`,
      ], 'Threaded but failing'),
    );
    const [flagged] = await waitFor(async () => {
      const found = await events('email.replied', failing.leadId);
      return found.length > 0 ? found : undefined;
    }, 'the failing but threaded reply', DEADLINE);
    expect(flagged!.data.authentication).toMatchObject({ verdict: 'fail', spf: 'fail', dmarc: 'fail', authservId: '127.0.0.1' });
    // Still a reply: it answers our Message-ID, so the exit rules apply.
    expect(await enrollmentOf(failing.leadId)).toMatchObject({ status: 'exited' });

    // The same failing verdicts on mail that names none of our emails: only its From ties it to a lead.
    const unthreaded = await emailLead('forged');
    mail.imap.deliver(
      rep.user,
      message(unthreaded.email, `forged-${kind}@lead.test`, null, [`127.0.0.1; spf=softfail smtp.mailfrom=${unthreaded.email}; dmarc=fail header.from=lead.test`], 'Stop emailing me'),
    );
    const [unverified] = await waitFor(async () => {
      const found = await events('email.reply_unverified', unthreaded.leadId);
      return found.length > 0 ? found : undefined;
    }, 'the unverified reply', DEADLINE);
    expect(unverified!.data.authentication).toMatchObject({ verdict: 'fail', dmarc: 'fail' });
    expect(await events('email.replied', unthreaded.leadId)).toEqual([]);
    expect((await enrollmentOf(unthreaded.leadId)).status).not.toBe('exited');

    // Another server's header on top is skipped; the mailbox server's pass is recorded.
    const genuine = await emailLead('genuine');
    mail.imap.deliver(
      rep.user,
      message(genuine.email, `pass-${kind}@lead.test`, genuine.messageId, [
        `mx.elsewhere.test; dmarc=fail header.from=lead.test`,
        `127.0.0.1; spf=pass smtp.mailfrom=${genuine.email}; dkim=pass header.d=lead.test; dmarc=pass header.from=lead.test`,
      ], 'Happy to talk'),
    );
    const [passed] = await waitFor(async () => {
      const found = await events('email.replied', genuine.leadId);
      return found.length > 0 ? found : undefined;
    }, 'the verified reply', DEADLINE);
    expect(passed!.data.authentication).toMatchObject({ verdict: 'pass', dmarc: 'pass', authservId: '127.0.0.1' });
  });

  it('misses nothing and counts nothing twice across a server restart, a watcher restart and a renumbered INBOX', async () => {
    const leads: Array<Awaited<ReturnType<typeof emailLead>>> = [];
    for (const name of ['r1', 'r2', 'r3', 'r4', 'r5']) leads.push(await emailLead(name));
    const reply = (i: number) =>
      [
        `From: ${leads[i]!.email}`,
        `To: ${rep.user}`,
        `Subject: Re: Quick question`,
        `Message-ID: <reply-${i}-${kind}@lead.test>`,
        `In-Reply-To: <${leads[i]!.messageId}>`,
        `Date: ${clock.now().toUTCString()}`,
        ``,
        `Answer ${i}`,
        ``,
      ].join('\r\n');
    const replies = async (i: number) => (await events('email.replied', leads[i]!.leadId)).length;
    const watcher = () => services.find((s) => s.watcher(mailboxId))?.watcher(mailboxId);
    const connectionsBefore = watcher()!.stats.connections;

    // The server goes away mid-watch; two replies arrive while it is down.
    await mail.imap.stop();
    mail.imap.deliver(rep.user, reply(0));
    mail.imap.deliver(rep.user, reply(1));
    await mail.imap.start();
    await waitFor(async () => (await replies(0)) === 1 && (await replies(1)) === 1, 'the replies that arrived while the server was down', DEADLINE);
    expect(watcher()!.stats.connections).toBeGreaterThan(connectionsBefore);

    // The watcher's process stops (its lease given back); another one takes over from the checkpoint.
    await services[0]!.stop();
    mail.imap.deliver(rep.user, reply(2));
    const second = service('second');
    second.start();
    await waitFor(async () => (await replies(2)) === 1, 'the reply read by the second process', DEADLINE);

    // The INBOX is renumbered: everything is listed again under a new UIDVALIDITY.
    const before = await readCheckpoint(db, mailboxId);
    await mail.imap.resetUidValidity(rep.user, (before.uidValidity ?? 1) + 1000);
    mail.imap.deliver(rep.user, reply(3));
    await waitFor(async () => (await replies(3)) === 1, 'the reply after the renumbering', DEADLINE);
    expect((await readCheckpoint(db, mailboxId)).uidValidity).toBe((before.uidValidity ?? 1) + 1000);
    mail.imap.deliver(rep.user, reply(4));
    await waitFor(async () => (await replies(4)) === 1, 'a later reply', DEADLINE);
    for (let i = 0; i < 5; i += 1) expect(await replies(i)).toBe(1);
    expect(second.watcher(mailboxId)!.stats.duplicates).toBeGreaterThan(0);
  });

  it('gives each mailbox one watcher across processes, and hands it over when its holder dies', async () => {
    const a = services[services.length - 1]!;
    const b = service('third');
    await b.tick();
    expect(b.watcher(mailboxId)).toBeUndefined();
    // The holder dies without giving its lease back; once it runs out, the other takes over.
    await a.stop({ release: false });
    clock.set(new Date(clock.now().getTime() + SETTINGS.leaseMs + 1));
    await b.tick();
    expect(b.watcher(mailboxId)).toBeDefined();
    const { leadId, email, messageId } = await emailLead('late');
    await client().sendMail({ from: email, to: rep.user, subject: 'Re: Quick question', inReplyTo: `<${messageId}>`, date: clock.now(), text: 'Yes.' });
    await waitFor(async () => (await events('email.replied', leadId)).length === 1, 'the reply read by the new holder', DEADLINE);
  });
});
