/**
 * Operator controls over HTTP: every action from every status (legal ones move the enrollment,
 * illegal ones are a 409 with the state machine's sentence), and the race the issue names —
 * cancel while the dispatcher holds the step — where a 200 means no send follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENROLLMENT_STATUSES, OPERATOR_ACTIONS, operatorTransition } from '../../src/core/enrollmentStatus.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

const kinds = await databaseKinds();

const threeEmails = {
  name: 'Three emails back to back',
  ...OPEN_ALL_DAY,
  steps: [
    { id: 'one', type: 'email', subject: 'One', body: 'one' },
    { id: 'two', type: 'email', subject: 'Two', body: 'two' },
    { id: 'three', type: 'email', subject: 'Three', body: 'three' },
  ],
};

describe.each(kinds)('operator controls on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let counter = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  async function activeSequence(definition: unknown): Promise<string> {
    const created = await kit.call('POST', '/api/sequences', { body: definition });
    expect(created.status).toBe(201);
    expect((await kit.call('PATCH', `/api/sequences/${created.body.id}`, { body: { status: 'active' } })).status).toBe(200);
    return created.body.id;
  }

  async function enrollNewLead(sequenceId: string): Promise<{ leadId: string; enrollmentId: string }> {
    const lead = await kit.call('POST', '/api/leads', { body: { email: `c${kind}${counter++}@acme.test`, phone: '+14155550101', firstName: 'Cy' } });
    const enrolled = await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [lead.body.id] } });
    expect(enrolled.body.enrolled).toHaveLength(1);
    return { leadId: lead.body.id, enrollmentId: enrolled.body.enrolled[0].enrollmentId };
  }

  const sendsTo = (enrollmentId: string) => kit.runtime.mock!.sends.filter((s) => s.idempotencyKey.startsWith(enrollmentId)).length;

  it('answers every action from every status: the move, or a 409 with the reason', async () => {
    const sequenceId = await activeSequence(taskSequence);
    for (const from of ENROLLMENT_STATUSES) {
      for (const action of OPERATOR_ACTIONS) {
        const { enrollmentId } = await enrollNewLead(sequenceId);
        await kit.db.query(
          `update enrollments set status = $2, waiting_for = case when $2 = 'waiting' then 'branch' end,
             finished_at = case when $2 in ('active', 'paused', 'waiting') then null else now() end where id = $1`,
          [enrollmentId, from],
        );
        const response = await kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { token: kit.tokens.operator, body: { action, reason: 'test' } });
        const expected = operatorTransition(from, action);
        if (expected.ok) {
          expect(response.status, `${action} from ${from}`).toBe(200);
          expect(response.body.status, `${action} from ${from}`).toBe(expected.to);
        } else {
          expect(response.status, `${action} from ${from}`).toBe(409);
          expect(response.body.error).toEqual({ code: 'conflict', message: expected.message });
          expect(response.body.error.message).toMatch(new RegExp(`^Cannot ${action} an enrollment that is ${from}: `));
        }
      }
    }
  });

  it('spot-checks the table: resume of an active one and pause of a cancelled one are refused', () => {
    expect(operatorTransition('active', 'resume')).toEqual({ ok: false, message: 'Cannot resume an enrollment that is active: it is not paused.' });
    expect(operatorTransition('cancelled', 'pause').ok).toBe(false);
    expect(operatorTransition('completed', 'convert')).toEqual({ ok: true, to: 'converted' });
  });

  it('cancel while the step is in the provider call: the answer waits for it, and nothing is sent after', async () => {
    const sequenceId = await activeSequence(threeEmails);
    const { enrollmentId } = await enrollNewLead(sequenceId);
    const adapters = kit.runtime.engine.deps.adapters;
    const original = adapters.email.send.bind(adapters.email);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inCall = new Promise<void>((resolve) => (entered = resolve));
    // Only this enrollment's send is held; earlier tests left other enrollments due.
    adapters.email.send = async (message) => {
      if (message.idempotencyKey.startsWith(enrollmentId)) {
        entered();
        await gate;
      }
      return original(message);
    };
    try {
      const tick = kit.runtime.engine.dispatcher.tick();
      await inCall;
      let answered = false;
      const cancel = kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { body: { action: 'cancel' } }).then((r) => {
        answered = true;
        return r;
      });
      await waitFor(
        async () => (await kit.db.query(`select 1 from enrollment_changes where enrollment_id = $1 and action = 'cancel'`, [enrollmentId])).length > 0,
        'the cancel to commit',
      );
      expect(answered).toBe(false); // it waits for the send the provider already has
      release();
      const response = await cancel;
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('cancelled');
      const [first] = await kit.db.query<{ status: string }>(`select status from sequence_executions where enrollment_id = $1 and step_id = 'one'`, [enrollmentId]);
      expect(first?.status).toBe('succeeded'); // recorded before the answer
      const sendsAtAnswer = sendsTo(enrollmentId);
      await tick;
      await kit.runtime.engine.dispatcher.drain();
      kit.clock.advance(3 * 86_400_000);
      await kit.runtime.engine.dispatcher.drain();
      expect(sendsTo(enrollmentId)).toBe(sendsAtAnswer);
      expect(sendsAtAnswer).toBe(1);
    } finally {
      adapters.email.send = original;
    }
  });

  it('cancel racing the dispatcher at random points: after a 200, the send count never grows', async () => {
    const sequenceId = await activeSequence(threeEmails);
    for (let round = 0; round < 15; round++) {
      const { enrollmentId } = await enrollNewLead(sequenceId);
      const tick = kit.runtime.engine.dispatcher.tick();
      for (let i = 0; i < round % 6; i++) await new Promise((resolve) => setImmediate(resolve));
      const response = await kit.call('PUT', `/api/sequences/enrollments/${enrollmentId}`, { body: { action: 'cancel' } });
      const sendsAtAnswer = sendsTo(enrollmentId);
      await tick;
      await kit.runtime.engine.dispatcher.drain();
      kit.clock.advance(86_400_000);
      await kit.runtime.engine.dispatcher.drain();
      if (response.status === 200) {
        expect(sendsTo(enrollmentId), `round ${round}`).toBe(sendsAtAnswer);
      } else {
        expect(response.status).toBe(409); // it had already finished all three
        expect(sendsTo(enrollmentId)).toBe(3);
      }
    }
  });
});
