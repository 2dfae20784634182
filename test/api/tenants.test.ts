/**
 * Leads and tenants (issue 14): converting stops every sequence that says so, a lead's status
 * follows what happens to it, opt-outs and replies that name only an address reach every
 * workspace they concern (and no other), a reply is counted on the step it answers, and a
 * patch cannot leave a lead unreachable. On PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../src/core/events.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const twoEmails = (exitOn?: string[]) => ({
  name: `Two emails ${randomUUID().slice(0, 6)}`,
  ...OPEN_ALL_DAY,
  ...(exitOn ? { exitOn } : {}),
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
    { id: 'pause', type: 'wait', duration: 'P2D' },
    { id: 'follow', type: 'email', subject: 'Again', body: 'Hello again' },
  ],
});

const textThenWait = {
  name: 'A text, then a wait',
  ...OPEN_ALL_DAY,
  steps: [
    { id: 'text', type: 'sms', text: 'Hi' },
    { id: 'pause', type: 'wait', duration: 'P2D' },
    { id: 'again', type: 'sms', text: 'Hi again' },
  ],
};

describe.each(kinds)('leads and tenants on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let n = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const unique = () => `${kind}${n++}${randomUUID().slice(0, 4)}`;

  async function activeSequence(definition: unknown, token = kit.tokens.admin): Promise<string> {
    const created = await kit.call('POST', '/api/sequences', { token, body: definition });
    expect(created.status).toBe(201);
    expect((await kit.call('PATCH', `/api/sequences/${created.body.id}`, { token, body: { status: 'active' } })).status).toBe(200);
    return created.body.id;
  }

  async function newLead(body: Record<string, unknown>, token = kit.tokens.admin): Promise<string> {
    const created = await kit.call('POST', '/api/leads', { token, body });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function enroll(sequenceId: string, leadId: string, token = kit.tokens.admin): Promise<string> {
    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { token, body: { leadIds: [leadId] } });
    expect(enrolled.body.enrolled).toHaveLength(1);
    return enrolled.body.enrolled[0].enrollmentId;
  }

  const enrollment = async (id: string, token = kit.tokens.admin) => (await kit.call('GET', `/api/sequences/enrollments/${id}`, { token })).body;
  const lead = async (id: string, token = kit.tokens.admin) => (await kit.call('GET', `/api/leads/${id}`, { token })).body;
  const events = async (leadId: string, token = kit.tokens.admin) =>
    (await kit.call('GET', `/api/leads/${leadId}/timeline?kind=event&limit=100`, { token })).body.items as Array<{
      enrollmentId: string | null;
      data: { type: string; stepId: string | null };
    }>;
  const ingest = (event: Partial<InboundEvent> & Pick<InboundEvent, 'type'>) =>
    kit.runtime.engine.ingest({
      providerEventId: `test:${randomUUID()}`,
      provider: 'telnyx',
      occurredAt: kit.clock.now(),
      data: {},
      ...event,
    });

  describe('converting', () => {
    it('exits every live enrollment of the lead whose exitOn lists converted, in one go, and marks the lead converted', async () => {
      const stops = await activeSequence(twoEmails());
      const alsoStops = await activeSequence(twoEmails(['converted']));
      const goesOn = await activeSequence(twoEmails(['email.replied']));
      const leadId = await newLead({ email: `convert-${unique()}@acme.test` });
      const [a, b, c] = [await enroll(stops, leadId), await enroll(alsoStops, leadId), await enroll(goesOn, leadId)];
      await kit.runtime.engine.dispatcher.drain();

      const converted = await kit.call('PUT', `/api/sequences/enrollments/${a}`, { token: kit.tokens.operator, body: { action: 'convert' } });
      expect(converted.status).toBe(200);
      expect((await enrollment(a)).status).toBe('converted');
      expect(await enrollment(b)).toMatchObject({ status: 'exited', statusReason: 'converted' });
      expect((await enrollment(c)).status).toBe('active');
      expect((await lead(leadId)).status).toBe('converted');
    });

    it('converts a lead as a whole with POST /api/leads/{id}/convert, and keeps tenants apart', async () => {
      const stops = await activeSequence(twoEmails());
      const leadId = await newLead({ email: `whole-${unique()}@acme.test` });
      const e = await enroll(stops, leadId);
      await kit.runtime.engine.dispatcher.drain();
      expect((await kit.call('POST', `/api/leads/${leadId}/convert`, { token: kit.other.operator })).status).toBe(404);
      expect((await kit.call('POST', `/api/leads/${leadId}/convert`, { token: kit.tokens.viewer })).status).toBe(403);
      const answer = await kit.call('POST', `/api/leads/${leadId}/convert`, { token: kit.tokens.operator, body: {} });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ lead: { id: leadId, status: 'converted' }, exited: [e] });
      expect(await enrollment(e)).toMatchObject({ status: 'exited', statusReason: 'converted' });
      // Once converted, a reply or an opt-out does not move the lead back.
      await ingest({ type: 'email.replied', provider: 'sendgrid', address: { channel: 'email', value: (await lead(leadId)).email } });
      expect((await lead(leadId)).status).toBe('converted');
    });
  });

  describe('lifecycle', () => {
    it('moves new → contacted → replied → opted_out as things happen, never back down, and filters on it', async () => {
      const email = `life-${unique()}@acme.test`;
      const phone = '+14155550177';
      const leadId = await newLead({ email, phone, firstName: 'Life' });
      const idle = await newLead({ email: `idle-${unique()}@acme.test` });
      expect((await lead(leadId)).status).toBe('new');
      const sequenceId = await activeSequence(twoEmails(['sms.opted_out']));
      await enroll(sequenceId, leadId);
      await kit.runtime.engine.dispatcher.drain();
      expect((await lead(leadId)).status).toBe('contacted');
      expect((await lead(idle)).status).toBe('new');

      const contacted = await kit.call('GET', '/api/leads?status=contacted&limit=200');
      expect(contacted.body.items.map((l: { id: string }) => l.id)).toContain(leadId);
      expect(contacted.body.items.map((l: { id: string }) => l.id)).not.toContain(idle);

      await ingest({ type: 'email.replied', provider: 'sendgrid', address: { channel: 'email', value: email } });
      expect((await lead(leadId)).status).toBe('replied');
      // A later delivery does not take the lead back to `contacted`.
      await ingest({ type: 'email.opened', provider: 'sendgrid', address: { channel: 'email', value: email } });
      expect((await lead(leadId)).status).toBe('replied');
      await ingest({ type: 'sms.opted_out', address: { channel: 'sms', value: phone }, suppress: true, data: { keyword: 'STOP' } });
      expect((await lead(leadId)).status).toBe('opted_out');
      // START lifts the opt-out; the status falls back to what the history shows.
      await ingest({ type: 'sms.opted_in', address: { channel: 'sms', value: phone }, unsuppress: true, data: { keyword: 'START' } });
      expect((await lead(leadId)).status).toBe('replied');

      expect((await kit.call('GET', '/api/leads?status=qualified')).status).toBe(400);
      const refused = await kit.call('PATCH', `/api/leads/${leadId}`, { body: { status: 'new' } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.problems[0]).toMatchObject({ path: '$.status' });
      expect(JSON.stringify(refused.body)).toContain('/convert');
    });

    it('marks a bounce, and a new lead whose address a provider has suppressed starts as what it is', async () => {
      const email = `bounce-${unique()}@acme.test`;
      const leadId = await newLead({ email });
      await ingest({ type: 'email.bounced', provider: 'sendgrid', address: { channel: 'email', value: email }, suppress: true });
      expect((await lead(leadId)).status).toBe('bounced');
      const later = await kit.call('POST', '/api/leads', { token: kit.other.operator, body: { email } });
      expect(later.body.status).toBe('bounced');
    });
  });

  describe('opt-outs across tenants', () => {
    it('a STOP from a number two workspaces hold suppresses it in both, exits both, and holds for leads created later', async () => {
      const phone = '+14155550188';
      const mine = await newLead({ phone, firstName: 'Mine' });
      const theirs = await newLead({ phone, firstName: 'Theirs' }, kit.other.operator);
      const e1 = await enroll(await activeSequence(textThenWait), mine);
      const e2 = await enroll(await activeSequence(textThenWait, kit.other.admin), theirs, kit.other.operator);
      await kit.runtime.engine.dispatcher.drain();

      const result = await ingest({
        type: 'sms.opted_out',
        address: { channel: 'sms', value: phone },
        sender: '+15550001111',
        suppress: true,
        data: { keyword: 'STOP' },
      });
      expect(result.status).toBe('recorded');
      expect(await enrollment(e1)).toMatchObject({ status: 'exited', statusReason: 'opted_out' });
      expect(await enrollment(e2, kit.other.admin)).toMatchObject({ status: 'exited', statusReason: 'opted_out' });
      expect((await events(mine)).map((e) => e.data.type)).toContain('sms.opted_out');
      expect((await events(theirs, kit.other.admin)).map((e) => e.data.type)).toContain('sms.opted_out');
      const suppressions = await kit.db.query<{ n: number }>(
        `select count(distinct workspace_id)::int as n from suppressions where channel = 'sms' and address = $1`,
        [phone],
      );
      expect(suppressions[0]!.n).toBeGreaterThanOrEqual(2);

      // A lead created afterwards in either workspace, with the same number, gets no text.
      await kit.call('DELETE', `/api/leads/${theirs}`, { token: kit.other.operator });
      const later = await newLead({ phone, firstName: 'Later' }, kit.other.operator);
      const sequenceId = await activeSequence(textThenWait, kit.other.admin);
      const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { token: kit.other.operator, body: { leadIds: [later] } });
      expect(enrolled.body.skipped).toMatchObject([{ leadId: later, reason: 'suppressed' }]);
      // And a workspace created after the STOP inherits it.
      const [fresh] = await kit.db.query<{ id: string }>(`insert into workspaces (name) values ($1) returning id`, [`fresh-${unique()}`]);
      const inherited = await kit.db.query(`select 1 from suppressions where workspace_id = $1 and channel = 'sms' and address = $2`, [fresh!.id, phone]);
      expect(inherited).toHaveLength(1);
    });

    it('our own unsubscribe link stays in the workspace whose message it came from', async () => {
      const email = `link-${unique()}@acme.test`;
      const mine = await newLead({ email });
      const theirs = await newLead({ email }, kit.other.operator);
      const e1 = await enroll(await activeSequence(twoEmails()), mine);
      const e2 = await enroll(await activeSequence(twoEmails(), kit.other.admin), theirs, kit.other.operator);
      await kit.runtime.engine.dispatcher.drain();
      const [execution] = await kit.db.query<{ id: string }>('select id from sequence_executions where enrollment_id = $1', [e1]);
      await ingest({ type: 'email.unsubscribed', provider: 'touchpoint', executionId: execution!.id, address: { channel: 'email', value: email }, suppress: true });
      expect((await enrollment(e1)).status).toBe('exited');
      expect((await enrollment(e2, kit.other.admin)).status).toBe('active');
      expect((await lead(theirs, kit.other.admin)).status).toBe('contacted');
    });
  });

  describe('replies across tenants', () => {
    it('a reply with only an address reaches every workspace with a live enrollment for it, on the step it answers', async () => {
      const email = `reply-${unique()}@acme.test`;
      const mine = await newLead({ email });
      const theirs = await newLead({ email }, kit.other.operator);
      const mySequence = await activeSequence(twoEmails());
      const theirSequence = await activeSequence(twoEmails(), kit.other.admin);
      const e1 = await enroll(mySequence, mine);
      const e2 = await enroll(theirSequence, theirs, kit.other.operator);
      await kit.runtime.engine.dispatcher.drain();

      const result = await ingest({ type: 'email.replied', provider: 'sendgrid', address: { channel: 'email', value: email }, data: { subject: 'Re: Hi' } });
      expect(result.status).toBe('recorded');
      expect(await enrollment(e1)).toMatchObject({ status: 'exited', statusReason: 'replied' });
      expect(await enrollment(e2, kit.other.admin)).toMatchObject({ status: 'exited', statusReason: 'replied' });
      expect((await events(mine)).filter((e) => e.data.type === 'email.replied')).toMatchObject([{ enrollmentId: e1, data: { stepId: 'intro' } }]);
      expect((await events(theirs, kit.other.admin)).filter((e) => e.data.type === 'email.replied')).toMatchObject([
        { enrollmentId: e2, data: { stepId: 'intro' } },
      ]);
      const stats = (await kit.call('GET', `/api/sequences/${mySequence}/stats`)).body;
      expect(stats.steps.find((s: { stepId: string }) => s.stepId === 'intro')).toMatchObject({ replied: 1 });
    });

    it('a reply from an address two workspaces hold but neither ever wrote to lands in neither', async () => {
      const email = `stranger-${unique()}@acme.test`;
      const mine = await newLead({ email });
      const theirs = await newLead({ email }, kit.other.operator);
      const result = await ingest({ type: 'email.replied', provider: 'sendgrid', address: { channel: 'email', value: email }, data: { subject: 'Hello?' } });
      expect(result.status).toBe('unmatched');
      expect(await events(mine)).toEqual([]);
      expect(await events(theirs, kit.other.admin)).toEqual([]);
      // One workspace alone holding it: the reply is that workspace's, on the lead.
      const alone = `alone-${unique()}@acme.test`;
      const only = await newLead({ email: alone });
      expect((await ingest({ type: 'email.replied', provider: 'sendgrid', address: { channel: 'email', value: alone } })).status).toBe('recorded');
      expect((await events(only)).map((e) => e.data.type)).toEqual(['email.replied']);
    });

    it('a reply that names its thread stays in that workspace', async () => {
      const email = `thread-${unique()}@acme.test`;
      const mine = await newLead({ email });
      const theirs = await newLead({ email }, kit.other.operator);
      const e1 = await enroll(await activeSequence(twoEmails()), mine);
      const e2 = await enroll(await activeSequence(twoEmails(), kit.other.admin), theirs, kit.other.operator);
      await kit.runtime.engine.dispatcher.drain();
      const [sent] = await kit.db.query<{ providerMessageId: string }>(
        'select provider_message_id as "providerMessageId" from sequence_executions where enrollment_id = $1',
        [e1],
      );
      await ingest({ type: 'email.replied', provider: 'sendgrid', address: { channel: 'email', value: email }, inReplyTo: [`${sent!.providerMessageId}@example.net`] });
      expect((await enrollment(e1)).status).toBe('exited');
      expect((await enrollment(e2, kit.other.admin)).status).toBe('active');
      expect((await events(theirs, kit.other.admin)).map((e) => e.data.type)).not.toContain('email.replied');
      expect((await lead(theirs, kit.other.admin)).status).toBe('contacted');
    });
  });

  describe('patching a lead', () => {
    it('refuses to leave a lead with neither email nor phone', async () => {
      const onlyEmail = await newLead({ email: `patch-${unique()}@acme.test` });
      const cleared = await kit.call('PATCH', `/api/leads/${onlyEmail}`, { body: { email: null } });
      expect(cleared.status).toBe(422);
      expect(cleared.body.error.message).toMatch(/email or a phone/);
      expect((await lead(onlyEmail)).email).not.toBeNull();
      const both = await newLead({ email: `patch-${unique()}@acme.test`, phone: '+14155550199' });
      expect((await kit.call('PATCH', `/api/leads/${both}`, { body: { email: null } })).status).toBe(200);
      expect((await kit.call('PATCH', `/api/leads/${both}`, { body: { phone: null } })).status).toBe(422);
      expect((await kit.call('PATCH', `/api/leads/${both}`, { body: { phone: null, email: 'back@acme.test' } })).status).toBe(200);
    });
  });
});
