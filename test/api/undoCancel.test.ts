/**
 * Undoing a cancel: within the window the enrollment goes back where it was (paused stays
 * paused; a waiting task waits again), audited; after the window, twice, or when the lead was
 * enrolled again, a 409 that says why. On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANCEL_UNDO_WINDOW_MS } from '../../src/core/transitions.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const taskSequence = {
  name: 'One task',
  ...OPEN_ALL_DAY,
  steps: [
    { id: 'call', type: 'task', title: 'Call them', outcomes: ['done'] },
    { id: 'done', type: 'end' },
  ],
};

describe.each(kinds)('undoing a cancel on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let sequenceId: string;

  const enrollNew = async (): Promise<string> => {
    const lead = await kit.call('POST', '/api/leads', { body: { email: `u${Math.random().toString(36).slice(2)}@acme.test` } });
    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [lead.body.id] } });
    kit.clock.advance(1000);
    await kit.runtime.engine.dispatcher.drain();
    return enrolled.body.enrolled[0].enrollmentId;
  };
  const act = (id: string, action: string) => kit.call('PUT', `/api/sequences/enrollments/${id}`, { token: kit.tokens.operator, body: { action, reason: `${action} in a test` } });
  const undo = (id: string) => kit.call('POST', `/api/sequences/enrollments/${id}/undo-cancel`, { token: kit.tokens.operator, body: {} });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    const sequence = await kit.call('POST', '/api/sequences', { body: taskSequence });
    sequenceId = sequence.body.id;
    await kit.call('PATCH', `/api/sequences/${sequenceId}`, { body: { status: 'active' } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('puts a waiting task back to waiting on its step, audited, once', async () => {
    const id = await enrollNew();
    expect((await kit.call('GET', `/api/sequences/enrollments/${id}`)).body).toMatchObject({ status: 'waiting', waitingFor: 'task' });
    const cancelled = await act(id, 'cancel');
    expect(cancelled.body).toMatchObject({ status: 'cancelled', statusReason: 'cancel in a test' });
    kit.clock.advance(5_000);
    const undone = await undo(id);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({ status: 'active', statusReason: null, finishedAt: null, currentStep: { id: 'call' } });
    await kit.runtime.engine.dispatcher.drain();
    expect((await kit.call('GET', `/api/sequences/enrollments/${id}`)).body).toMatchObject({ status: 'waiting', waitingFor: 'task' });
    const again = await undo(id);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/Only a cancel can be undone/);
    const leadId = undone.body.lead.id;
    const changes = await kit.call('GET', `/api/leads/${leadId}/timeline?kind=change`);
    expect(changes.body.items.map((i: { data: { action: string } }) => i.data.action)).toEqual(expect.arrayContaining(['undo_cancel', 'cancel']));
  });

  it('keeps a paused one paused', async () => {
    const id = await enrollNew();
    await act(id, 'pause');
    await act(id, 'cancel');
    const undone = await undo(id);
    expect(undone.body).toMatchObject({ status: 'paused', nextRunAt: null });
    expect((await act(id, 'resume')).body.status).toBe('active');
  });

  it('refuses after the window, for a viewer, and in another workspace', async () => {
    const id = await enrollNew();
    await act(id, 'cancel');
    expect((await kit.call('POST', `/api/sequences/enrollments/${id}/undo-cancel`, { token: kit.tokens.viewer, body: {} })).status).toBe(403);
    expect((await kit.call('POST', `/api/sequences/enrollments/${id}/undo-cancel`, { token: kit.other.admin, body: {} })).status).toBe(404);
    kit.clock.advance(CANCEL_UNDO_WINDOW_MS + 1);
    const late = await undo(id);
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/seconds; this one is older/);
  });

  it('refuses when the lead was enrolled in the sequence again', async () => {
    const id = await enrollNew();
    const leadId = (await kit.call('GET', `/api/sequences/enrollments/${id}`)).body.lead.id;
    await act(id, 'cancel');
    expect((await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [leadId] } })).body.enrolled).toHaveLength(1);
    const undone = await undo(id);
    expect(undone.status).toBe(409);
    expect(undone.body.error.message).toMatch(/enrolled in this sequence again/);
  });
});
