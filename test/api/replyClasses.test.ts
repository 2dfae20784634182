/**
 * Reply sentiment on both stores: a reply is classified by the rules when it lands, the class is
 * on the timeline and in the stats; an operator's correction is kept beside the machine's class
 * and counted; another workspace cannot touch it; a class outside the list is a 400. The class
 * drives the sequence: a `when: {reply: …}` branch, `exitOn: ["reply.<class>"]`, and a correction
 * that exits the enrollments it reached.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAiWriter, type FakeOpenAiWriter } from '../../src/devtools/fakes/index.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('reply classes on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('classifies, shows, counts and lets an operator correct a reply', async () => {
    const csv = `email,first_name\nreply-${kind}@acme.test,Uwe`;
    const [leadId] = (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    const id = (await kit.call('POST', '/api/sequences', { body: { name: 'Sentiment', ...OPEN_ALL_DAY, exitOn: [], steps: [{ id: 'hello', type: 'email', subject: 'Hallo', body: 'hi' }, { id: 'hold', type: 'wait', duration: 'P30D' }] } })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: [leadId] } });
    await kit.runtime.engine.dispatcher.drain();
    const [sent] = await kit.db.query<{ id: string }>(`select id from sequence_executions where sequence_id = $1`, [id]);
    const result = await kit.runtime.engine.ingest({
      type: 'email.replied', providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), executionId: sent!.id,
      data: { subject: 'AW: Hallo', text: 'Bitte entfernen Sie mich aus Ihrem Verteiler.\n\nAm Mo schrieb Sam:\n> Interesse an einem Termin?' },
    });
    expect(result.status).toBe('recorded');
    const eventId = (result as { eventId: string }).eventId;

    const timeline = await kit.call('GET', `/api/leads/${leadId}/timeline`);
    const reply = timeline.body.items.find((i: { id: string }) => i.id === eventId);
    expect(reply.data).toMatchObject({ replyClass: 'unsubscribe', replyClassSource: 'rules' });
    expect(reply.summary).toContain('unsubscribe');

    const before = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    expect(before.body.totals.replyClasses).toMatchObject({ unsubscribe: 1, interested: 0, corrected: 0 });
    expect(before.body.steps.find((s: { stepId: string }) => s.stepId === 'hello').replyClasses).toMatchObject({ unsubscribe: 1 });

    expect((await kit.call('PUT', `/api/replies/${eventId}/class`, { token: kit.tokens.viewer, body: { class: 'not_interested' } })).status).toBe(403);
    expect((await kit.call('PUT', `/api/replies/${eventId}/class`, { token: kit.other.operator, body: { class: 'not_interested' } })).status).toBe(404);
    expect((await kit.call('PUT', `/api/replies/${eventId}/class`, { token: kit.tokens.operator, body: { class: 'angry' } })).status).toBe(400);
    const corrected = await kit.call('PUT', `/api/replies/${eventId}/class`, { token: kit.tokens.operator, body: { class: 'not_interested' } });
    expect(corrected.status).toBe(200);
    expect(corrected.body).toEqual({ eventId, class: 'not_interested', machineClass: 'unsubscribe', source: 'operator', exited: [] });

    const after = await kit.call('GET', `/api/sequences/${id}/stats`, { token: kit.tokens.viewer });
    expect(after.body.totals.replyClasses).toMatchObject({ unsubscribe: 0, not_interested: 1, corrected: 1 });
    const shown = (await kit.call('GET', `/api/leads/${leadId}/timeline`)).body.items.find((i: { id: string }) => i.id === eventId);
    expect(shown.data).toMatchObject({ replyClass: 'not_interested', replyClassSource: 'operator', replyClassMachine: 'unsubscribe' });
  });

  it('routes by the class: interested takes the branch, not interested exits, a correction exits too', async () => {
    const csv = ['email,first_name', ...['yes', 'no', 'later'].map((who) => `${who}-${kind}@acme.test,${who}`)].join('\n');
    const leadIds: string[] = (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    const definition = {
      name: 'Reply routing',
      ...OPEN_ALL_DAY,
      exitOn: ['reply.unsubscribe', 'reply.not_interested', 'email.bounced'],
      steps: [
        { id: 'intro', type: 'email', subject: 'Quick question', body: 'hi' },
        { id: 'route', type: 'branch', when: { reply: ['interested'] }, within: 'P3D', then: 'book', else: 'nudge' },
        { id: 'book', type: 'task', title: 'Book the call' },
        { id: 'done', type: 'end' },
        { id: 'nudge', type: 'email', subject: 'Again', body: 'hi again' },
      ],
    };
    const created = await kit.call('POST', '/api/sequences', { body: definition });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds } });
    await kit.runtime.engine.dispatcher.drain();
    const sends = await kit.db.query<{ id: string; leadId: string }>(
      `select x.id, e.lead_id as "leadId" from sequence_executions x join enrollments e on e.id = x.enrollment_id where x.sequence_id = $1 and x.step_id = 'intro'`,
      [id],
    );
    const replyFrom = async (index: number, text: string) => {
      kit.clock.advance(60_000);
      const execution = sends.find((s) => s.leadId === leadIds[index])!;
      const result = await kit.runtime.engine.ingest({ type: 'email.replied', providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), executionId: execution.id, data: { text } });
      expect(result.status).toBe('recorded');
      return result as { eventId: string; exited: number };
    };
    const enrollmentOf = async (index: number) => {
      const [row] = await kit.db.query<{ status: string; reason: string | null; step: string | null }>(
        `select status, status_reason as reason, current_step_id as step from enrollments where sequence_id = $1 and lead_id = $2`,
        [id, leadIds[index]],
      );
      return row!;
    };

    expect((await replyFrom(0, 'Sounds good, when are you free next week?')).exited).toBe(0);
    expect((await replyFrom(1, 'Not interested, thanks.')).exited).toBe(1);
    const later = await replyFrom(2, 'Not right now, maybe next quarter.');
    expect(later.exited).toBe(0);
    await kit.runtime.engine.dispatcher.drain();

    expect(await enrollmentOf(0)).toMatchObject({ status: 'waiting', step: 'book' });
    expect(await enrollmentOf(1)).toMatchObject({ status: 'exited', reason: 'reply.not_interested' });
    expect(await enrollmentOf(2)).toMatchObject({ status: 'waiting', step: 'route' });
    const [branch] = await kit.db.query<{ metadata: { branch: string } }>(
      `select x.metadata from sequence_executions x join enrollments e on e.id = x.enrollment_id where x.sequence_id = $1 and x.step_id = 'route' and e.lead_id = $2`,
      [id, leadIds[0]],
    );
    expect(branch?.metadata.branch).toBe('then');

    // The operator reads "not right now" as a polite no: the corrected class exits the enrollment.
    const corrected = await kit.call('PUT', `/api/replies/${later.eventId}/class`, { token: kit.tokens.operator, body: { class: 'not_interested' } });
    expect(corrected.status).toBe(200);
    expect(corrected.body).toMatchObject({ machineClass: 'not_now', exited: [expect.any(String)] });
    expect(await enrollmentOf(2)).toMatchObject({ status: 'exited', reason: 'reply.not_interested' });

    // A correction to a class the sequence does not exit on changes nothing but the class.
    const [yesEvent] = await kit.db.query<{ id: string }>(`select id from events where lead_id = $1 and type = 'email.replied'`, [leadIds[0]]);
    const toNotNow = await kit.call('PUT', `/api/replies/${yesEvent!.id}/class`, { token: kit.tokens.operator, body: { class: 'not_now' } });
    expect(toNotNow.body.exited).toEqual([]);
    expect(await enrollmentOf(0)).toMatchObject({ status: 'waiting', step: 'book' });
  });
});

describe.each(kinds)('AI reply classification on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let fake: FakeOpenAiWriter;

  beforeAll(async () => {
    // The fake model calls every reply it is shown "wrong_person".
    fake = await startFakeOpenAiWriter({ reply: () => '{"class": "wrong_person"}' });
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, {
      env: { AI_WRITER_API_KEY: fake.apiKey, AI_WRITER_BASE_URL: `${fake.baseUrl}/v1`, AI_WRITER_MODEL: 'gpt-test', AI_REPLY_CLASSIFIER_TIMEOUT_MS: '300' },
    });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
    await fake?.close();
  });

  it('asks the AI only when no rule matched, and keeps the rules when it fails', async () => {
    const csv = `email\nai-${kind}@acme.test`;
    const [leadId] = (await kit.call('POST', '/api/leads/import', { body: csv, headers: { 'content-type': 'text/csv' } })).body.leadIds;
    const id = (await kit.call('POST', '/api/sequences', { body: { name: 'AI', ...OPEN_ALL_DAY, exitOn: [], steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'hi' }, { id: 'hold', type: 'wait', duration: 'P30D' }] } })).body.id;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: [leadId] } });
    await kit.runtime.engine.dispatcher.drain();
    const [sent] = await kit.db.query<{ id: string }>(`select id from sequence_executions where sequence_id = $1`, [id]);
    const classOf = async (text: string) => {
      const result = await kit.runtime.engine.ingest({ type: 'email.replied', providerEventId: `test:${randomUUID()}`, provider: 'sendgrid', occurredAt: kit.clock.now(), executionId: sent!.id, data: { text } });
      const [row] = await kit.db.query<{ class: string; source: string }>(`select reply_class as class, reply_class_source as source from events where id = $1`, [(result as { eventId: string }).eventId]);
      return row;
    };

    expect(await classOf('Please unsubscribe me.')).toEqual({ class: 'unsubscribe', source: 'rules' });
    expect(fake.requests).toHaveLength(0);
    expect(await classOf('Maria in purchasing decides these.')).toEqual({ class: 'wrong_person', source: 'ai' });
    expect(fake.requests).toHaveLength(1);
    fake.hangNext();
    expect(await classOf('Maria in purchasing decides these.')).toEqual({ class: 'interested', source: 'rules' });
    fake.failNext({ status: 500 });
    expect(await classOf('Maria in purchasing decides these.')).toEqual({ class: 'interested', source: 'rules' });
  });
});
