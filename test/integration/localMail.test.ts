/**
 * The local mail server pair of `touchpoint fake-providers` (src/devtools/mail/localMail.ts,
 * docs/MAILBOXES.md "The whole mailbox path on one machine"), started through the function the
 * CLI calls: mail handed to its SMTP server for the rep lands in the Dovecot Maildir and reads
 * back over IMAP; mail to a lead is relayed only after AUTH and kept, not sent; and the lead who
 * answers does what the docs promise — a reply in the thread, an out-of-office from `ooo…@`, a
 * hard bounce (RFC 3464) from `bounce…@` — each placed in the rep's INBOX, where Touchpoint's
 * inbox watcher reads it and the engine acts on it. Under CI=true a missing Dovecot fails.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
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
import type { RelayedMail } from '../../src/devtools/mail/smtpServer.ts';
import { startLocalMail, type LocalMail } from '../../src/devtools/mail/localMail.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createEngine, type InlineEngine } from '../../src/engine/engine.ts';
import { InboxService } from '../../src/inbox/service.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { dovecotAvailable } from '../helpers/mailServers.ts';
import { waitFor } from '../helpers/waitFor.ts';

const available = dovecotAvailable();
const keyRing = new KeyRing(randomBytes(32));
/** Load stretches how long a look takes, never whether it passes. */
const DEADLINE = 60_000;

describe.skipIf(!available)('the local mail pair of touchpoint fake-providers', () => {
  let database: TestDatabase;
  let db: Db;
  let mail: LocalMail;
  let clock: ManualClock;
  let engine: InlineEngine;
  let sender: SmtpMailboxSender;
  let inbox: InboxService;
  let workspaceId: string;
  let mailboxId: string;
  const answered: Array<{ to: string[]; answer: string }> = [];

  const imapClient = () =>
    new ImapFlow({
      host: '127.0.0.1',
      port: mail.imap!.port,
      secure: false,
      doSTARTTLS: true,
      auth: { user: mail.rep.user, pass: mail.rep.password },
      tls: { ca: mail.certificate.cert },
      logger: false,
    });
  /** SMTP to the pair as a mail client would: STARTTLS with the pair's certificate, AUTH when given. */
  const smtpClient = (auth?: { user: string; pass: string }) =>
    nodemailer.createTransport({ host: '127.0.0.1', port: mail.smtp.port, secure: false, requireTLS: true, tls: { ca: mail.certificate.cert }, ...(auth ? { auth } : {}) });
  const events = (type: string, leadId: string) =>
    db.query<{ data: Record<string, unknown> }>(`select data from events where workspace_id = $1 and lead_id = $2 and type = $3`, [workspaceId, leadId, type]);
  const enrollmentOf = async (leadId: string) =>
    (await db.query<{ status: string; statusReason: string | null }>(`select status, status_reason as "statusReason" from enrollments where lead_id = $1`, [leadId]))[0]!;

  beforeAll(async () => {
    // As the CLI starts it (src/cli/fakeProviders.ts): the lead answers each relayed email.
    mail = await startLocalMail({ delayMs: 0, onAnswer: (sent: RelayedMail, answer: string) => answered.push({ to: sent.to, answer }) });
    expect(mail.imap).toBeDefined();
    database = await openTestDatabase('pglite');
    db = database.db;
    // The answers are dated by the wall clock; the engine's clock starts there too.
    clock = new ManualClock(new Date());
    sender = new SmtpMailboxSender({ tls: { ca: mail.certificate.cert }, socketTimeoutMs: 5_000, now: () => clock.now().getTime() });
    engine = createEngine(
      {
        db,
        adapters: { ...new MockDelivery({ now: () => clock.now() }).adapters(), mailbox: sender },
        clock,
        leaseMs: 60_000,
        senders: { emailFrom: 'default@us.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
        random: () => 0.5,
        openSecret: (sealed, context) => keyRing.open(sealed, context),
      },
      { inFlightTimeoutMs: 10_000 },
    );
    workspaceId = (await ensureWorkspace(db, `localmail-${randomUUID().slice(0, 8)}`, 'Europe/Berlin')).id;
    mailboxId = randomUUID();
    // The mailbox fake-providers prints, as a newcomer would add it.
    const server = { host: '127.0.0.1', secure: false, user: mail.rep.user };
    await createMailbox(
      db,
      workspaceId,
      {
        id: mailboxId,
        name: 'Local rep',
        fromEmail: mail.rep.user,
        fromName: 'Local Rep',
        smtp: { ...server, port: mail.smtp.port },
        smtpPasswordSealed: keyRing.seal(mail.rep.password, mailboxSecretContext(mailboxId, 'smtp')),
        imap: { ...server, port: mail.imap!.port },
        imapPasswordSealed: keyRing.seal(mail.rep.password, mailboxSecretContext(mailboxId, 'imap')),
        dailyLimit: 1000,
        minGapSeconds: 0,
      },
      clock.now(),
    );
    inbox = new InboxService({
      db,
      clock,
      ingest: (event) => engine.ingest(event),
      wake: () => engine.wake(),
      openSecret: (sealed, context) => keyRing.open(sealed, context),
      settings: { leaseMs: 60_000, pollMs: 200, backoff: { initialMs: 50, maxMs: 400 }, pauseDays: 3, maxPauseDays: 90 },
      tls: { ca: mail.certificate.cert },
      owner: 'local-mail-test',
    });
    inbox.start();
    // The first watch starts at the INBOX's end: wait until it has looked once.
    await waitFor(async () => (await readCheckpoint(db, mailboxId)).uidValidity !== null, 'the first look at the INBOX', DEADLINE);
  }, 60_000);

  afterAll(async () => {
    await inbox?.stop();
    await sender?.close();
    await mail?.close();
    await database?.close();
  });

  it("delivers mail for the rep into the Dovecot Maildir, read back over IMAP; relays to others only after AUTH and keeps it", async () => {
    const subject = `Local delivery ${randomUUID().slice(0, 8)}`;
    await smtpClient().sendMail({ from: 'someone@example.test', to: mail.rep.user, subject, text: 'Hello from a mail client.' });

    const client = imapClient();
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const found = await waitFor(async () => {
          const uids = (await client.search({ subject }, { uid: true })) || [];
          return uids.length > 0 ? uids : undefined;
        }, 'the message in the INBOX', DEADLINE);
        const message = await client.fetchOne(String(found[0]), { source: true }, { uid: true });
        const source = message && message.source ? message.source : Buffer.alloc(0);
        expect(source.toString('utf8')).toMatch(new RegExp(`^Delivered-To: ${mail.rep.user.replace(/\./g, '\\.')}\r?$`, 'm'));
        const parsed = await simpleParser(source);
        expect(parsed.subject).toBe(subject);
        expect(parsed.text?.trim()).toBe('Hello from a mail client.');
      } finally {
        lock.release();
      }
    } finally {
      await client.logout().catch(() => undefined);
    }

    // Mail to a lead: refused without AUTH (no open relay), kept (not sent) with it.
    await expect(smtpClient().sendMail({ from: mail.rep.user, to: 'nobody@example.test', subject: 'x', text: 'x' })).rejects.toMatchObject({ responseCode: 554 });
    await expect(smtpClient({ user: mail.rep.user, pass: 'wrong' }).sendMail({ from: mail.rep.user, to: 'nobody@example.test', subject: 'x', text: 'x' })).rejects.toMatchObject({ code: 'EAUTH' });
    expect(mail.smtp.outbox.some((m) => m.to.includes('nobody@example.test'))).toBe(false);
  }, 60_000);

  it('plays the lead who answers: a reply, an out-of-office and a bounce land in the INBOX, and the watcher acts on each', async () => {
    const definition = validateDefinition({
      name: 'Local mail',
      schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
      quietHours: { start: '00:00', end: '00:00', channels: [] },
      mailboxes: [mailboxId],
      steps: [
        { id: 'intro', type: 'email', subject: 'Quick question', body: 'Hi {{ lead.firstName }}' },
        { id: 'pause', type: 'wait', duration: 'P2D' },
        { id: 'nudge', type: 'email', body: 'Any thoughts?' },
      ],
    });
    if (!definition.ok) throw new Error(JSON.stringify(definition.problems));
    const sequenceId = (await createSequence(db, workspaceId, definition.definition, 'active')).id;
    const leads = await insertLeads(db, workspaceId, [
      { email: 'ann@example.test', firstName: 'Ann', timezone: 'Europe/Berlin' },
      { email: 'ooo@example.test', firstName: 'Otto', timezone: 'Europe/Berlin' },
      { email: 'bounce@example.test', firstName: 'Bo', timezone: 'Europe/Berlin' },
    ]);
    const [ann, ooo, bounce] = leads.map((l) => l.id) as [string, string, string];
    const enrolled = await engine.enroll({ workspaceId, sequenceId, leadIds: [ann, ooo, bounce], actor: 'test' });
    if (!enrolled.ok) throw new Error(enrolled.message);
    await engine.dispatcher.drain();

    // Sent through the pair's SMTP as the rep, kept in its outbox, and answered into the INBOX.
    for (const to of ['ann@example.test', 'ooo@example.test', 'bounce@example.test']) {
      const sent = mail.smtp.outbox.find((m) => m.to.includes(to));
      expect(sent, to).toBeDefined();
      expect(sent!.user).toBe(mail.rep.user);
    }
    await waitFor(() => answered.length >= 3, 'the three answers', DEADLINE);

    // A reply in the thread: email.replied with the words above the quote; the enrollment exits.
    const [reply] = await waitFor(async () => {
      const found = await events('email.replied', ann);
      return found.length > 0 ? found : undefined;
    }, "Ann's reply", DEADLINE);
    expect(reply!.data.text).toBe('Thanks, this sounds interesting. Can we talk on Tuesday?');
    await waitFor(async () => (await enrollmentOf(ann)).status === 'exited', 'Ann to exit', DEADLINE);

    // An out-of-office: email.auto_replied, the enrollment paused (not treated as a reply).
    await waitFor(async () => (await events('email.auto_replied', ooo)).length > 0, "Otto's out-of-office", DEADLINE);
    await waitFor(async () => (await enrollmentOf(ooo)).status === 'paused', 'Otto to pause', DEADLINE);
    expect(await enrollmentOf(ooo)).toMatchObject({ status: 'paused', statusReason: 'auto_reply' });
    expect(await events('email.replied', ooo)).toEqual([]);

    // A hard bounce (RFC 3464, 5.1.1): email.bounced, the address suppressed, the enrollment over.
    const [bounced] = await waitFor(async () => {
      const found = await events('email.bounced', bounce);
      return found.length > 0 ? found : undefined;
    }, 'the bounce', DEADLINE);
    expect(bounced!.data).toMatchObject({ bounceType: 'hard', status: '5.1.1' });
    await waitFor(async () => (await enrollmentOf(bounce)).status !== 'active', 'the bounced enrollment to end', DEADLINE);
    const suppressed = await db.query(`select 1 from suppressions where workspace_id = $1 and lower(address) = 'bounce@example.test'`, [workspaceId]);
    expect(suppressed).toHaveLength(1);
  }, 120_000);
});
