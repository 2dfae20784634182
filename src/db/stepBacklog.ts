/**
 * A step's queue in the database (docs/ENGINE.md, "Limit-aware claims"): when a send limit defers
 * one send, the other enrollments on the same step of the same sequence version go out the same
 * way. Those due are given their places in the limit's queue and made due at them here, instead
 * of each being claimed only to be deferred; those already queued a little ahead are moved back
 * with their places when the queue slips (a stall), instead of each coming back early.
 */
import type { Queryable } from './db.ts';

/** An enrollment on the step, and its visit (with the step id, its idempotency key). */
export interface BacklogRow {
  enrollmentId: string;
  stepSeq: number;
}

/**
 * On `stepId` of the pinned sequence version, in due order (the workspace's due index, migration
 * 015): up to `due` enrollments due at `now`, then up to `ahead` not leased and due after `now`
 * but within `aheadMs` of it (the next places of the step's queue). Read without locks: the
 * deferral re-checks each row.
 */
export async function queuedOnStep(
  db: Queryable,
  args: { workspaceId: string; sequenceId: string; sequenceVersion: number; stepId: string; now: Date; due: number; ahead: number; aheadMs: number },
): Promise<BacklogRow[]> {
  const onStep = `e.workspace_id = $1 and e.status in ('active', 'waiting') and e.next_execution_at is not null
       and e.sequence_id = $3 and e.sequence_version = $4 and e.current_step_id = $5`;
  return db.query<BacklogRow>(
    `(select e.id as "enrollmentId", e.step_seq as "stepSeq" from enrollments e
      where ${onStep} and e.next_execution_at <= $2
      order by e.next_execution_at limit $6)
     union all
     (select e.id as "enrollmentId", e.step_seq as "stepSeq" from enrollments e
      where ${onStep} and e.next_execution_at > $2 and e.next_execution_at <= $8 and e.lease_id is null
      order by e.next_execution_at limit $7)`,
    [args.workspaceId, args.now, args.sequenceId, args.sequenceVersion, args.stepId, args.due, args.ahead, new Date(args.now.getTime() + args.aheadMs)],
  );
}

/**
 * Makes each row due at its `at` if that is later than it is due now, and it is still what
 * `queuedOnStep` read: live, on the same visit of the step, and not claimed since (a lease that
 * ran out counts as none). A row claimed meanwhile keeps its claim; its send finds its place kept
 * for its key. Only ever later: a row is never made due before its time. Answers how many moved.
 */
export async function deferOnStep(
  db: Queryable,
  args: { stepId: string; now: Date; rows: Array<BacklogRow & { at: Date }> },
): Promise<number> {
  if (args.rows.length === 0) return 0;
  const rows = await db.query<{ id: string }>(
    `update enrollments e set next_execution_at = d.at, lease_id = null
     from unnest($1::uuid[], $2::int[], $3::timestamptz[]) as d(id, seq, at)
     where e.id = d.id and e.step_seq = d.seq and e.current_step_id = $4
       and e.status in ('active', 'waiting') and e.next_execution_at < d.at
       and (e.lease_id is null or e.next_execution_at <= $5)
     returning e.id`,
    [args.rows.map((r) => r.enrollmentId), args.rows.map((r) => r.stepSeq), args.rows.map((r) => r.at.toISOString()), args.stepId, args.now],
  );
  return rows.length;
}
