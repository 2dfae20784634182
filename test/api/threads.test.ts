/**
 * The thread on the lead timeline (issue 16, dashboard): a real threaded sequence run by the
 * engine through a mailbox — an email with a subject, then one without (sent as `Re:` in the
 * same thread) — then a delivery, a reply and an auto-reply as the IMAP watcher records them
 * (matched by In-Reply-To). Every email and every event about one carries the thread's id (the
 * first email's Message-ID) and each send names its mailbox, still after the mailbox is deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';
import { sampleMailbox } from './fixtures.ts';

const kinds = await databaseKinds();

interface Item {
  id: string;
  kind: string;
  at: string;
  threadId: string | null;
  data: Record<string, any>;
}

describe.each(kinds)('the email thread on the timeline on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let leadId: string;
  let workspaceId: string;
  let mailboxId: string;
  const timeline = async (token?: string) => (await kit.call('GET', `/api/leads/${leadId}/timeline?limit=100`, { token })).body.items as Item[];
  const sends = async () => (await timeline()).filter((i) => i.kind === 'execution' && i.data.stepType === 'email').sort((a, b) => (a.at < b.at ? -1 : 1));

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    const mailbox = await kit.call('POST', '/api/mailboxes', { body: { ...sampleMailbox('rita'), fromName: 'Rita Rep', name: 'Rita' } });
    expect(mailbox.status).toBe(201);
    mailboxId = mailbox.body.id;
    const lead = await kit.call('POST', '/api/leads', { body: { email: 'ann@lead.test', firstName: 'Ann' } });
    leadId = lead.body.id;
    workspaceId = (await kit.db.query<{ id: string }>('select workspace_id as id from leads where id = $1', [leadId]))[0]!.id;
    const sequence = await kit.call('POST', '/api/sequences', {
      body: {
        name: 'Threaded',
        ...OPEN_ALL_DAY,
        mailboxes: [mailboxId],
        steps: [
          { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}, a quick question.' },
          { id: 'pause', type: 'wait', duration: 'PT1H' },
          { id: 'nudge', type: 'email', body: 'Any thoughts?' },
          { id: 'later', type: 'wait', duration: 'P7D' },
          { id: 'done', type: 'end' },
        ],
      },
    });
    expect(sequence.status).toBe(201);
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    const enrolled = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [leadId] } });
    expect(enrolled.body.enrolled).toHaveLength(1);
    await kit.runtime.engine.dispatcher.drain();
    kit.clock.advance(3_600_000 + 60_000);
    await kit.runtime.engine.dispatcher.drain();
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('gives both emails one thread id: the first email’s Message-ID; the second is its Re:', async () => {
    const [intro, nudge] = await sends();
    expect(intro!.data).toMatchObject({ stepId: 'intro', status: 'succeeded', rendered: { subject: 'Quick question, Ann' } });
    expect(nudge!.data).toMatchObject({ stepId: 'nudge', status: 'succeeded', rendered: { subject: 'Re: Quick question, Ann' } });
    const root = intro!.data.rendered.messageId as string;
    expect(root).toMatch(/@acme\.test$/);
    expect(nudge!.data.rendered.inReplyTo).toBe(root);
    expect(intro!.threadId).toBe(root);
    expect(nudge!.threadId).toBe(root);
    // Who sent each: the mailbox, by name and address.
    for (const send of [intro!, nudge!]) expect(send.data.mailbox).toEqual({ id: mailboxId, name: 'Rita', fromEmail: 'rita@acme.test', fromName: 'Rita Rep' });
    // Items outside a thread have none.
    expect((await timeline()).filter((i) => i.kind === 'change').every((i) => i.threadId === null)).toBe(true);
  });

  it('puts a delivery, a reply and an auto-reply matched by In-Reply-To in the same thread', async () => {
    const [intro, nudge] = await sends();
    const root = intro!.threadId!;
    const now = kit.clock.now();
    const delivered = await kit.runtime.engine.ingest({
      type: 'email.delivered',
      provider: 'mock',
      providerEventId: `delivered-${kind}`,
      occurredAt: now,
      executionId: intro!.id,
      data: {},
    });
    expect(delivered.status).toBe('recorded');
    const out = await kit.runtime.engine.ingest({
      type: 'email.auto_replied',
      provider: 'imap',
      workspaceId,
      providerEventId: `imap:${workspaceId}:mid:ooo-${kind}@lead.test`,
      occurredAt: new Date(now.getTime() + 1000),
      address: { channel: 'email', value: 'ann@lead.test' },
      inReplyTo: [intro!.data.rendered.messageId],
      pauseUntil: new Date(now.getTime() + 86_400_000),
      data: { mailboxId, messageId: `ooo-${kind}@lead.test`, subject: 'Automatic reply: Quick question, Ann', from: 'ann@lead.test', text: 'Out until Friday.' },
    });
    expect(out.status).toBe('recorded');
    const reply = await kit.runtime.engine.ingest({
      type: 'email.replied',
      provider: 'imap',
      workspaceId,
      providerEventId: `imap:${workspaceId}:mid:reply-${kind}@lead.test`,
      occurredAt: new Date(now.getTime() + 2000),
      address: { channel: 'email', value: 'ann@lead.test' },
      // A mail client names the parent, then the chain: the newest known one wins.
      inReplyTo: [nudge!.data.rendered.messageId, root],
      data: { mailboxId, messageId: `reply-${kind}@lead.test`, subject: 'Re: Quick question, Ann', from: 'ann@lead.test', text: 'Yes, Tuesday works.' },
    });
    expect(reply.status).toBe('recorded');

    const items = await timeline();
    const inThread = items.filter((i) => i.threadId === root);
    const events = inThread.filter((i) => i.kind === 'event').map((i) => ({ type: i.data.type, executionId: i.data.executionId }));
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'email.delivered', executionId: intro!.id },
        { type: 'email.auto_replied', executionId: intro!.id },
        { type: 'email.replied', executionId: nudge!.id },
      ]),
    );
    const answer = inThread.find((i) => i.data.type === 'email.replied')!;
    expect(answer.data.details).toMatchObject({ text: 'Yes, Tuesday works.', from: 'ann@lead.test' });
    expect(inThread.filter((i) => i.kind === 'execution')).toHaveLength(2);
    // The reply ended the enrollment (email.replied is in the default exitOn): a change, outside the thread.
    expect(items.some((i) => i.kind === 'change' && i.data.to === 'exited' && i.threadId === null)).toBe(true);
    // Another workspace sees none of it.
    expect((await kit.call('GET', `/api/leads/${leadId}/timeline`, { token: kit.other.admin })).status).toBe(404);
    // The export carries the thread too.
    const exported = await kit.call('GET', `/api/leads/${leadId}/timeline/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.items.filter((i: Item) => i.threadId === root).length).toBe(inThread.length);
  });

  it('still names the sender after its mailbox is deleted', async () => {
    expect((await kit.call('DELETE', `/api/mailboxes/${mailboxId}`)).status).toBe(204);
    const [intro] = await sends();
    expect(intro!.data.mailbox).toEqual({ id: mailboxId, name: 'Rita', fromEmail: 'rita@acme.test', fromName: 'Rita Rep', deleted: true });
    expect(intro!.threadId).toBe(intro!.data.rendered.messageId);
  });
});
