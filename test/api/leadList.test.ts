/** The lead list says where each lead stands: its running sequences, their step and next run. On both stores. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

const kinds = await databaseKinds();

describe.each(kinds)('the lead list on %s', (kind) => {
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

  it('carries each lead’s live enrollments with step and next run, none for others, paused without a next run', async () => {
    const enrolled = await kit.call('POST', '/api/leads', { body: { email: 'in@acme.test', timezone: 'Europe/Paris' } });
    const idle = await kit.call('POST', '/api/leads', { body: { email: 'idle@acme.test' } });
    const sequence = await kit.call('POST', '/api/sequences', { body: taskSequence });
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    const enroll = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [enrolled.body.id] } });
    const enrollmentId = enroll.body.enrolled[0].enrollmentId;

    const list = await kit.call('GET', '/api/leads', { token: kit.tokens.viewer });
    const of = (id: string) => list.body.items.find((l: { id: string }) => l.id === id);
    expect(of(enrolled.body.id).liveEnrollments).toEqual([
      { id: enrollmentId, sequenceId: sequence.body.id, sequenceName: taskSequence.name, status: 'active', currentStepId: 'intro', nextRunAt: expect.any(String) },
    ]);
    expect(of(idle.body.id).liveEnrollments).toEqual([]);

    await kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { body: { action: 'pause' } });
    const paused = await kit.call('GET', '/api/leads');
    expect(paused.body.items.find((l: { id: string }) => l.id === enrolled.body.id).liveEnrollments[0]).toMatchObject({ status: 'paused', nextRunAt: null });
    await kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { body: { action: 'cancel' } });
    const after = await kit.call('GET', '/api/leads');
    expect(after.body.items.find((l: { id: string }) => l.id === enrolled.body.id).liveEnrollments).toEqual([]);
  });
});
