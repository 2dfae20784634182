/**
 * `onUnknownDelivery: pause` when the enrollment changed while its send was in flight
 * (docs/SIMULATION.md, Findings 8): an operator's pause or an exit rule committed between the
 * worker's intent and its step end, and the step end's hold then met an enrollment that no
 * longer runs. The hold leaves that status and the reason for it alone (before: it wrote
 * `unknown_delivery` over the reason, with no audit row — an exit for a conversion elsewhere was
 * no longer counted as one), and nothing goes past the unknown visit: a resume meets its
 * `unknown` row and holds it then. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../../src/delivery/types.ts';
import { outcomeFiguresByStep } from '../../src/db/stats.ts';
import { applyOperatorAction } from '../../src/engine/controls.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, createEngineKit, lead, NO_QUIET_HOURS, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const twoSteps = {
  name: 'Holds an unknown send',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  onUnknownDelivery: 'pause',
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello from us' },
    { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' },
  ],
} as const;

/** What a live adapter answers when its request timed out after it was written. */
const MAY_HAVE_SENT: DeliveryResult = { kind: 'failed', retryable: true, code: 'timeout', message: 'No answer within 10000 ms.', mayHaveSent: true };

describe.each(kinds)('a hold for an unknown send on an enrollment changed while the send was in flight, on %s', (kind) => {
  let database: TestDatabase;
  let kit: EngineKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  /** The operator's control as the API runs it, answering at once (the send it races is ours, mid-call). */
  const control = (args: Omit<Parameters<typeof applyOperatorAction>[1], 'actor'>) =>
    applyOperatorAction({ db: kit.db, clock: kit.clock, wake: () => undefined, inFlightTimeoutMs: 0 }, { ...args, actor: 'operator' });

  const enrollment = async (id: string) =>
    (
      await kit.db.query<{ status: string; reason: string | null; step: string }>(
        'select status, status_reason as reason, current_step_id as step from enrollments where id = $1',
        [id],
      )
    )[0];
  const changes = (id: string) =>
    kit.db.query<{ actor: string; action: string; from: string | null; to: string; reason: string | null }>(
      `select actor, action, from_status as from, to_status as to, reason from enrollment_changes where enrollment_id = $1 order by at`,
      [id],
    );
  const executions = (id: string) =>
    kit.db.query<{ step: string; status: string }>('select step_id as step, status from sequence_executions where enrollment_id = $1', [id]);

  it("keeps an operator's pause and its reason; a resume meets the unknown visit and holds it then", async () => {
    kit = await createEngineKit(database.db, { workspace: `unknown-paused-${kind}` });
    const [leadId] = await kit.addLeads([lead(1)]);
    const sequenceId = await kit.addSequence(twoSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const adapters = kit.engine.deps.adapters;
    adapters.email.send = async () => {
      // The operator pauses while the call is at the provider; the call then times out.
      kit.clock.advance(1_000);
      expect(await control({ enrollmentId: enrollmentId!, action: 'pause', reason: 'checking the account' })).toMatchObject({ ok: true });
      return MAY_HAVE_SENT;
    };
    await kit.engine.dispatcher.drain();

    expect(await enrollment(enrollmentId!)).toEqual({ status: 'paused', reason: 'checking the account', step: 'intro' });
    expect(await executions(enrollmentId!)).toEqual([{ step: 'intro', status: 'unknown' }]);
    expect(await changes(enrollmentId!)).toEqual([
      { actor: 'test', action: 'enroll', from: null, to: 'active', reason: null },
      { actor: 'operator', action: 'pause', from: 'active', to: 'paused', reason: 'checking the account' },
    ]);

    // Resumed, it runs the visit again, finds it unknown and holds it: nothing goes past it.
    kit.clock.advance(1_000);
    expect(await control({ enrollmentId: enrollmentId!, action: 'resume' })).toMatchObject({ ok: true });
    await kit.engine.dispatcher.drain();
    expect(await enrollment(enrollmentId!)).toEqual({ status: 'paused', reason: 'unknown_delivery', step: 'intro' });
    expect((await changes(enrollmentId!)).at(-1)).toEqual({ actor: 'system', action: 'pause', from: 'active', to: 'paused', reason: 'unknown_delivery' });
    expect(await executions(enrollmentId!)).toEqual([{ step: 'intro', status: 'unknown' }]);
    expect(kit.mock.sends).toHaveLength(0);
  });

  it('keeps why an exit rule ended it: an exit for a conversion elsewhere still counts as a conversion', async () => {
    kit = await createEngineKit(database.db, { workspace: `unknown-exited-${kind}` });
    const [leadId] = await kit.addLeads([lead(2)]);
    const held = await kit.addSequence(twoSteps);
    const other = await kit.addSequence({ ...twoSteps, name: 'Another sequence', steps: [{ id: 'task', type: 'task', title: 'Call them' }] });
    const [heldEnrollment] = await kit.enrollAll(held, [leadId!]);
    const [otherEnrollment] = await kit.enrollAll(other, [leadId!]);
    const adapters = kit.engine.deps.adapters;
    adapters.email.send = async () => {
      // The lead converts in the other sequence while this send is at the provider: this
      // enrollment exits (`converted` is in the default exitOn); the call then times out.
      kit.clock.advance(1_000);
      expect(await control({ enrollmentId: otherEnrollment!, action: 'convert' })).toMatchObject({ ok: true });
      return MAY_HAVE_SENT;
    };
    await kit.engine.dispatcher.drain();

    expect(await enrollment(heldEnrollment!)).toEqual({ status: 'exited', reason: 'converted', step: 'intro' });
    expect(await executions(heldEnrollment!)).toEqual([{ step: 'intro', status: 'unknown' }]);
    expect((await changes(heldEnrollment!)).at(-1)).toEqual({ actor: 'operator', action: 'exit', from: 'active', to: 'exited', reason: 'converted' });
    // The sequence's stats count the conversion (they read the exit's reason).
    const outcomes = await outcomeFiguresByStep(kit.db, held);
    expect(outcomes.filter((o) => o.total)).toEqual([{ stepId: null, total: true, outcome: 'converted', n: 1 }]);
    expect(kit.mock.sends).toHaveLength(0);
  });
});
