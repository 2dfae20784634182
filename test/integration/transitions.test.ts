/**
 * The state machine has one home, `src/core/transitions.ts`; the database functions that apply
 * the engine's changes in bulk spell parts of it in SQL. Here every status meets every kind of
 * change on a real store, and the status the store leaves must be the one the core table
 * gives: a step's end (`engine_apply_steps`, with the status reason it leaves), a failed attempt under and at the cap
 * (`engine_record_failures`), an exit rule, a sequence's hold and release. On PGlite and
 * PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENROLLMENT_STATUSES,
  failedAttempt,
  reasonAfterStepEnd,
  statusAfterStepEnd,
  statusAfterSystemChange,
  type EnrollmentStatus,
  type StepEndKind,
} from '../../src/core/transitions.ts';
import { recordStepFailures } from '../../src/db/enrollments.ts';
import { holdSequenceEnrollments, releaseSequenceEnrollments, SEQUENCE_HOLD_REASON } from '../../src/db/sequenceHolds.ts';
import { applyStepEnds, type StepTransition } from '../../src/db/stepEnds.ts';
import { exitOnTrigger } from '../../src/engine/ingest.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, createEngineKit, lead, NO_QUIET_HOURS, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();
const LEASE = '00000000-0000-4000-8000-0000000000aa';

const twoSteps = {
  name: 'Two steps',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  exitOn: ['email.replied'],
  steps: [
    { id: 'one', type: 'email', subject: 'One', body: 'One' },
    { id: 'two', type: 'email', subject: 'Two', body: 'Two' },
  ],
} as const;

const STEP_ENDS: Array<{ name: string; end: StepEndKind; transition: StepTransition }> = [
  { name: 'move', end: { kind: 'move' }, transition: { kind: 'move', next: 'two', dueAt: new Date('2026-03-05T15:00:00Z') } },
  { name: 'finish completed', end: { kind: 'finish', status: 'completed' }, transition: { kind: 'finish', status: 'completed', action: 'complete' } },
  { name: 'finish exited', end: { kind: 'finish', status: 'exited' }, transition: { kind: 'finish', status: 'exited', action: 'exit', reason: 'r' } },
  { name: 'finish failed', end: { kind: 'finish', status: 'failed' }, transition: { kind: 'finish', status: 'failed', action: 'fail', reason: 'r' } },
  { name: 'reschedule', end: { kind: 'reschedule' }, transition: { kind: 'reschedule', at: new Date('2026-03-05T15:00:00Z') } },
  { name: 'wait for a task', end: { kind: 'reschedule', waitingFor: 'task' }, transition: { kind: 'reschedule', at: null, waitingFor: 'task' } },
  { name: 'pause', end: { kind: 'pause' }, transition: { kind: 'pause', reason: 'unknown_delivery' } },
];

describe.each(kinds)('the state machine in SQL agrees with src/core/transitions.ts on %s', (kind) => {
  let database: TestDatabase;
  let kit: EngineKit;
  let sequenceId: string;
  let n = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createEngineKit(database.db, { workspace: 'transitions' });
    sequenceId = await kit.addSequence(twoSteps);
  });
  afterAll(async () => {
    await database?.close();
  });

  /** A fresh enrollment put straight into `status`, under our lease. */
  async function enrollmentIn(status: EnrollmentStatus, extra: { reason?: string; failures?: number } = {}): Promise<string> {
    const [leadId] = await kit.addLeads([lead(++n, { email: `t${n}@acme.test`, phone: null })]);
    const [id] = await kit.enrollAll(sequenceId, [leadId!]);
    await kit.db.query(
      `update enrollments set status = $2, lease_id = $3, status_reason = $4, consecutive_failures = $5,
         waiting_for = case when $2 = 'waiting' then 'task' end where id = $1`,
      [id, status, LEASE, extra.reason ?? null, extra.failures ?? 0],
    );
    return id!;
  }

  const statusOf = async (id: string) =>
    (await kit.db.query<{ status: EnrollmentStatus }>('select status from enrollments where id = $1', [id]))[0]!.status;

  const reasonOf = async (id: string) =>
    (await kit.db.query<{ reason: string | null }>('select status_reason as reason from enrollments where id = $1', [id]))[0]!.reason;

  for (const { name, end, transition } of STEP_ENDS) {
    it(`a step's end (${name}) from every status, and the reason it leaves`, async () => {
      const given = 'reason' in transition ? (transition.reason ?? null) : null;
      for (const from of ENROLLMENT_STATUSES) {
        const id = await enrollmentIn(from, { reason: 'before' });
        await applyStepEnds(kit.db, [{ enrollmentId: id, leaseId: LEASE, now: kit.clock.now(), transition }]);
        expect(await statusOf(id), `${name} from ${from}`).toBe(statusAfterStepEnd(from, end));
        expect(await reasonOf(id), `the reason after ${name} from ${from}`).toBe(reasonAfterStepEnd(from, end, { had: 'before', given }));
      }
    });
  }

  it('a failed attempt, under the cap and at it, from every status', async () => {
    for (const from of ENROLLMENT_STATUSES) {
      for (const previous of [0, 2]) {
        const id = await enrollmentIn(from, { failures: previous });
        const now = kit.clock.now();
        await recordStepFailures(kit.db, [{ enrollmentId: id, leaseId: LEASE, now, reason: 'r', retryAt: now, cap: 3 }]);
        const gaveUp = failedAttempt(previous, 3).givesUp;
        const expected = gaveUp ? statusAfterSystemChange(from, 'fail') : from;
        expect(await statusOf(id), `failure ${previous + 1} of 3 from ${from}`).toBe(expected);
      }
    }
  });

  it('an exit rule from every status', async () => {
    for (const from of ENROLLMENT_STATUSES) {
      const id = await enrollmentIn(from);
      const leadId = (await kit.db.query<{ leadId: string }>('select lead_id as "leadId" from enrollments where id = $1', [id]))[0]!.leadId;
      await kit.db.transaction((tx) => exitOnTrigger(tx, { leadId, trigger: 'email.replied', now: kit.clock.now(), actor: 'test' }));
      expect(await statusOf(id), `exit from ${from}`).toBe(statusAfterSystemChange(from, 'exit'));
    }
  });

  it("a sequence's hold and release from every status", async () => {
    // One sequence per status, so a hold touches only the enrollment under test.
    for (const from of ENROLLMENT_STATUSES) {
      const own = await kit.addSequence({ ...twoSteps, name: `Hold from ${from}` });
      const [leadId] = await kit.addLeads([lead(++n, { email: `h${n}@acme.test`, phone: null })]);
      const [id] = await kit.enrollAll(own, [leadId!]);
      await kit.db.query('update enrollments set status = $2 where id = $1', [id, from]);
      await kit.db.transaction((tx) => holdSequenceEnrollments(tx, { sequenceId: own, actor: 'test', now: kit.clock.now() }));
      const held = statusAfterSystemChange(from, 'hold');
      expect(await statusOf(id!), `hold from ${from}`).toBe(held);
      // Only what the hold paused is released; an operator's pause (another reason) stays.
      const reason = (await kit.db.query<{ r: string | null }>('select status_reason as r from enrollments where id = $1', [id]))[0]!.r;
      await kit.db.transaction((tx) => releaseSequenceEnrollments(tx, { sequenceId: own, actor: 'test', now: kit.clock.now() }));
      const released = reason === SEQUENCE_HOLD_REASON ? statusAfterSystemChange(held, 'release') : held;
      expect(await statusOf(id!), `release after a hold from ${from}`).toBe(released);
    }
  });
});
