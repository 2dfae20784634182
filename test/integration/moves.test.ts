/**
 * A run of steps due at once keeps the lease it was claimed with while at least half of it is
 * left, so the move changes no indexed column (a HOT update in Postgres); with less than half
 * left it renews the lease. A step that parks the enrollment records when it began to wait,
 * which orders the task inbox and survives until the enrollment moves on. On PGlite and
 * PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/db/enrollments.ts';
import { applyStepEnds } from '../../src/db/stepEnds.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, createEngineKit, lead, NO_QUIET_HOURS } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();
const LEASE_MS = 60_000;

const threeSteps = {
  name: 'Three at once',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [
    { id: 'one', type: 'email', subject: 'One', body: 'One' },
    { id: 'two', type: 'email', subject: 'Two', body: 'Two' },
    { id: 'three', type: 'email', subject: 'Three', body: 'Three' },
  ],
} as const;

describe.each(kinds)('moves on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function claimedEnrollment(workspace: string) {
    const kit = await createEngineKit(database.db, { workspace, leaseMs: LEASE_MS });
    const [leadId] = await kit.addLeads([lead(1)]);
    const sequenceId = await kit.addSequence(threeSteps);
    const [enrollmentId] = await kit.enrollAll(sequenceId, [leadId!]);
    const claimedAt = kit.clock.now();
    const leaseUntil = new Date(claimedAt.getTime() + LEASE_MS);
    const [claim] = await claimDue(kit.db, { now: claimedAt, limit: 10, leaseUntil, leaseId: '00000000-0000-4000-8000-000000000001' });
    expect(claim?.enrollmentId).toBe(enrollmentId);
    const state = async () =>
      (
        await kit.db.query<{ stepId: string; next: Date; leaseId: string | null; waitingSince: Date | null; status: string }>(
          `select current_step_id as "stepId", next_execution_at as next, lease_id as "leaseId",
             waiting_since as "waitingSince", status from enrollments where id = $1`,
          [enrollmentId],
        )
      )[0]!;
    const move = (next: string, at: Date) =>
      applyStepEnds(kit.db, [
        {
          enrollmentId: enrollmentId!,
          leaseId: claim!.leaseId,
          now: at,
          transition: { kind: 'move', next, dueAt: at, keepLeaseUntil: new Date(at.getTime() + LEASE_MS) },
        },
      ]);
    return { kit, enrollmentId: enrollmentId!, claim: claim!, claimedAt, leaseUntil, state, move };
  }

  it('keeps the claimed lease while half of it is left, then renews it', async () => {
    const { claimedAt, leaseUntil, state, move, claim } = await claimedEnrollment(`moves-lease-${kind}`);

    // 29 s into a 60 s lease: 31 s left, more than half. Nothing indexed changes.
    await move('two', new Date(claimedAt.getTime() + 29_000));
    expect(await state()).toMatchObject({ stepId: 'two', next: leaseUntil, leaseId: claim.leaseId });

    // 31 s in: 29 s left, less than half. The lease runs 60 s from now.
    const later = new Date(claimedAt.getTime() + 31_000);
    await move('three', later);
    expect(await state()).toMatchObject({ stepId: 'three', next: new Date(later.getTime() + LEASE_MS), leaseId: claim.leaseId });
  });

  it('records when a visit began to wait, keeps it while waiting, clears it on a move', async () => {
    const { kit, enrollmentId, claim, claimedAt, state, move } = await claimedEnrollment(`moves-wait-${kind}`);
    const park = (at: Date) =>
      applyStepEnds(kit.db, [
        {
          enrollmentId,
          leaseId: claim.leaseId,
          now: at,
          transition: { kind: 'reschedule', at: new Date(at.getTime() + 86_400_000), waitingFor: 'task' },
        },
      ]);
    const parkedAt = new Date(claimedAt.getTime() + 1_000);
    await park(parkedAt);
    expect(await state()).toMatchObject({ status: 'waiting', waitingSince: parkedAt });

    // Looked at again while still waiting (the lease is gone, so take a new one): the wait's start stands.
    await kit.db.query('update enrollments set lease_id = $2 where id = $1', [enrollmentId, claim.leaseId]);
    await park(new Date(claimedAt.getTime() + 5_000));
    expect(await state()).toMatchObject({ status: 'waiting', waitingSince: parkedAt });

    await kit.db.query('update enrollments set lease_id = $2 where id = $1', [enrollmentId, claim.leaseId]);
    await move('two', new Date(claimedAt.getTime() + 9_000));
    expect(await state()).toMatchObject({ status: 'active', stepId: 'two', waitingSince: null });
  });
});
