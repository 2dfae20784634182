/**
 * Answering a lead's reply from the inbox (issue 20): a real sequence sends through a mailbox to
 * a real SMTP server on 127.0.0.1 (the mailbox tests' harness), the lead's reply is recorded as
 * the IMAP watcher records it, then `POST /api/replies/{id}/respond` goes out through the same
 * mailbox — the server receives `Re:`, In-Reply-To the lead's reply and References the chain —
 * lands on the timeline as a manual email in the thread, counts against the mailbox's day, and
 * is sent once for a double click. Refusals: a suppressed address, the daily limit, an SMS reply,
 * a viewer, another workspace; an SMTP refusal is a 502 with the server's sentence and nothing kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

/** A header's value in a raw message (unfolded), or undefined. */
function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

describe.each(kinds)('answering a reply through the thread’s mailbox on %s', (kind) => {
  let database: TestDatabase;
  let server: TestSmtpServer;
  let kit: ApiKit;
  let workspaceId: string;
  let mailboxId: string;
  const leads: Record<string, string> = {};
  const replies: Record<string, string> = {};
  const roots: Record<string, string> = {};

  const timeline = async (leadId: string) => (await kit.call('GET', `/api/leads/${leadId}/timeline?limit=100`)).body.items as Array<{ kind: string; threadId: string | null; summary: string; data: Record<string, any> }>;
  const respond = (name: string, body: Record<string, unknown>, token = kit.tokens.operator) => kit.call('POST', `/api/replies/${replies[name]}/respond`, { token, body });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    server = await startSmtpServer();
    kit = await createApiKit(database.db, {
      env: { USE_MOCK_SEQUENCE_DELIVERY: 'false', SENDGRID_API_KEY: 'SG.not-real', TELNYX_API_KEY: 'KEY-not-real', TELNYX_CONNECTION_ID: 'conn-not-real', PUBLIC_URL: 'https://touchpoint.test', UNSUBSCRIBE_SECRET: 'x'.repeat(40) },
      parts: { smtp: { tls: { ca: server.ca }, socketTimeoutMs: 3_000 } },
    });
    const mailbox = await kit.call('POST', '/api/mailboxes', {
      body: { name: 'Rita', fromEmail: 'rita@acme.test', fromName: 'Rita Rep', smtp: { host: '127.0.0.1', port: server.port, secure: false, user: server.user, password: server.password }, dailyLimit: 10, minGapSeconds: 0 },
    });
    expect(mailbox.status).toBe(201);
    mailboxId = mailbox.body.id;
    for (const [name, email] of [['ann', 'ann@lead.test'], ['sue', 'sue@lead.test']] as const) {
      leads[name] = (await kit.call('POST', '/api/leads', { body: { email, firstName: name[0]!.toUpperCase() + name.slice(1), phone: '+14155550123' } })).body.id;
    }
    workspaceId = (await kit.db.query<{ id: string }>('select workspace_id as id from leads where id = $1', [leads.ann]))[0]!.id;
    const sequence = await kit.call('POST', '/api/sequences', {
      body: {
        name: 'Threaded',
        ...OPEN_ALL_DAY,
        mailboxes: [mailboxId],
        steps: [
          { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}, a quick question.' },
          { id: 'later', type: 'wait', duration: 'P7D' },
        ],
      },
    });
    expect(sequence.status).toBe(201);
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    expect((await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [leads.ann, leads.sue] } })).body.enrolled).toHaveLength(2);
    await kit.runtime.engine.dispatcher.drain();
    for (const name of ['ann', 'sue']) {
      const sent = (await timeline(leads[name]!)).find((i) => i.kind === 'execution')!;
      expect(sent.data.status).toBe('succeeded');
      roots[name] = sent.threadId!;
      const reply = await kit.runtime.engine.ingest({
        type: 'email.replied',
        provider: 'imap',
        workspaceId,
        providerEventId: `imap:${workspaceId}:mid:${name}-${kind}@lead.test`,
        occurredAt: kit.clock.now(),
        address: { channel: 'email', value: `${name}@lead.test` },
        inReplyTo: [sent.data.rendered.messageId],
        data: { mailboxId, messageId: `${name}-${kind}@lead.test`, subject: `Re: Quick question, ${name}`, from: `${name}@lead.test`, text: 'Tell me more.' },
      });
      expect(reply.status).toBe('recorded');
      replies[name] = (await kit.call('GET', '/api/replies')).body.items.find((r: { lead: { id: string } }) => r.lead.id === leads[name]).id;
    }
  });
  afterAll(async () => {
    await kit?.close();
    await server?.close();
    await database?.close();
  });

  it('sends through the mailbox with the threading headers, and shows it in the thread on the timeline', async () => {
    // The inbox names the mailbox an answer goes through.
    const listed = (await kit.call('GET', '/api/replies')).body.items.find((r: { id: string }) => r.id === replies.ann);
    expect(listed.mailbox).toEqual({ id: mailboxId, name: 'Rita', fromEmail: 'rita@acme.test' });
    const before = server.received.length;
    const sent = await respond('ann', { text: 'Happy to. Does Tuesday at 10 work?', idempotencyKey: 'draft-ann-0001' });
    expect(sent.status).toBe(201);
    const replyId = `ann-${kind}@lead.test`;
    expect(sent.body).toMatchObject({
      eventId: replies.ann,
      leadId: leads.ann,
      to: 'ann@lead.test',
      from: { email: 'rita@acme.test', name: 'Rita Rep' },
      mailbox: { id: mailboxId, name: 'Rita' },
      subject: 'Re: Quick question, ann',
      inReplyTo: replyId,
      references: [roots.ann, replyId],
      threadId: roots.ann,
    });
    expect(sent.body.messageId).toMatch(/@acme\.test$/);
    expect(sent.body.actor).toContain('operator');

    expect(server.received).toHaveLength(before + 1);
    const mail = server.received.at(-1)!;
    expect(mail.to).toEqual(['ann@lead.test']);
    expect(header(mail.raw, 'From')).toBe('Rita Rep <rita@acme.test>');
    expect(header(mail.raw, 'Subject')).toBe('Re: Quick question, ann');
    expect(header(mail.raw, 'Message-ID')).toBe(`<${sent.body.messageId}>`);
    expect(header(mail.raw, 'In-Reply-To')).toBe(`<${replyId}>`);
    expect(header(mail.raw, 'References')).toBe(`<${roots.ann}> <${replyId}>`);
    expect(mail.raw).toContain('Does Tuesday at 10 work?');
    expect(header(mail.raw, 'List-Unsubscribe')).toBeUndefined();

    const manual = (await timeline(leads.ann!)).find((i) => i.kind === 'activity')!;
    expect(manual.threadId).toBe(roots.ann);
    expect(manual.summary).toMatch(/^Email sent by .*operator.* through mailbox Rita$/);
    expect(manual.data).toMatchObject({ activityKind: 'email', body: 'Happy to. Does Tuesday at 10 work?', details: { subject: 'Re: Quick question, ann', messageId: sent.body.messageId, inReplyTo: replyId } });
    // Counted against the mailbox's day: the sequence's two emails and this one.
    expect((await kit.call('GET', `/api/mailboxes/${mailboxId}`)).body.today.sent).toBe(3);
  });

  it('sends once for a double click: the same key, or the same words without one', async () => {
    const before = server.received.length;
    const body = { text: 'One more thing.', idempotencyKey: 'draft-ann-0002' };
    const [first, second] = await Promise.all([respond('ann', body), respond('ann', body)]);
    expect([first.status, second.status].sort()).toEqual([201, 409]);
    const again = await respond('ann', body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual((first.status === 201 ? first : second).body);
    const plain = await respond('ann', { text: 'No key here.' });
    expect(plain.status).toBe(201);
    expect((await respond('ann', { text: 'No key here.' })).status).toBe(200);
    expect(server.received).toHaveLength(before + 2);
    expect((await timeline(leads.ann!)).filter((i) => i.kind === 'activity')).toHaveLength(3);
  });

  it('refuses a suppressed address, a spent mailbox, a viewer, another workspace and bad input with a sentence', async () => {
    expect((await respond('ann', { text: 'Hi' }, kit.tokens.viewer)).status).toBe(403);
    expect((await respond('ann', { text: 'Hi' }, kit.other.operator)).status).toBe(404);
    const empty = await respond('ann', { text: '   ' });
    expect(empty.status).toBe(400);
    expect((await respond('ann', { text: 'Hi', cc: 'x' })).status).toBe(400);

    expect((await kit.call('POST', '/api/suppressions', { body: { email: 'sue@lead.test', reason: 'asked' } })).status).toBe(201);
    const suppressed = await respond('sue', { text: 'Hi Sue' });
    expect(suppressed.status).toBe(409);
    expect(suppressed.body.error).toMatchObject({ code: 'suppressed', message: expect.stringContaining('sue@lead.test is on this workspace') });

    const sent = (await kit.call('GET', `/api/mailboxes/${mailboxId}`)).body.today.sent as number;
    expect((await kit.call('PATCH', `/api/mailboxes/${mailboxId}`, { body: { dailyLimit: sent } })).status).toBe(200);
    const spent = await respond('ann', { text: 'Over the limit' });
    expect(spent.status).toBe(409);
    expect(spent.body.error.code).toBe('mailbox_limit');
    expect(spent.body.error.message).toContain(`has sent ${sent} of its ${sent} emails today`);
    await kit.call('PATCH', `/api/mailboxes/${mailboxId}`, { body: { dailyLimit: 50 } });
  });

  it('answers 409 no_mailbox for an SMS reply, and 502 with the server’s sentence when SMTP refuses (nothing kept)', async () => {
    const sms = await kit.runtime.engine.ingest({
      type: 'sms.replied',
      provider: 'telnyx',
      providerEventId: `sms-${kind}`,
      occurredAt: kit.clock.now(),
      address: { channel: 'sms', value: '+14155550123' },
      data: { text: 'Call me' },
    });
    expect(sms.status).toBe('recorded');
    const smsReply = (await kit.call('GET', '/api/replies')).body.items.find((r: { channel: string }) => r.channel === 'sms');
    expect(smsReply.mailbox).toBeNull();
    const refused = await kit.call('POST', `/api/replies/${smsReply.id}/respond`, { token: kit.tokens.operator, body: { text: 'Hi' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'no_mailbox', message: expect.stringContaining('SMS') });

    // Ann's address changes to one the server refuses (550 at RCPT).
    await kit.call('PATCH', `/api/leads/${leads.ann}`, { body: { email: 'reject-ann@lead.test' } });
    const activities = (await timeline(leads.ann!)).filter((i) => i.kind === 'activity').length;
    const failed = await respond('ann', { text: 'Will this bounce?' });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: 'send_failed', message: expect.stringContaining('550'), details: { smtpCode: 'smtp_550', retryable: false } });
    expect((await timeline(leads.ann!)).filter((i) => i.kind === 'activity')).toHaveLength(activities);
    // Nothing kept but the day's count: the same words may be sent again once the address is fixed.
    await kit.call('PATCH', `/api/leads/${leads.ann}`, { body: { email: 'ann@lead.test' } });
    expect((await respond('ann', { text: 'Will this bounce?' })).status).toBe(201);
  });
});
