/**
 * Reply sentiment on both stores: a reply is classified by the rules when it lands, the class is
 * on the timeline and in the stats; an operator's correction is kept beside the machine's class
 * and counted; another workspace cannot touch it; a class outside the list is a 400.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
