/**
 * A step's due backlog, deferred without being claimed (docs/ENGINE.md, "Limit-aware claims"):
 * when a send limit defers one send, the other due enrollments on the same step of the same
 * sequence version would go out the same way, so they are given their places in the limit's
 * queue and made due at them here, instead of each being claimed only to be deferred.
 */
import type { Queryable } from './db.ts';

/** A due enrollment on the step, and its visit (with the step id, its idempotency key). */
export interface BacklogRow {
  enrollmentId: string;
  stepSeq: number;
}

/**
 * Up to `limit` enrollments due at `now` and not leased, on `stepId` of the pinned sequence
 * version, in due order (the workspace's due index, migration 015). Read without locks: the
 * deferral re-checks each row.
 */
export async function dueOnStep(
  db: Queryable,
  args: { workspaceId: string; sequenceId: string; sequenceVersion: number; stepId: string; now: Date; limit: number },
): Promise<BacklogRow[]> {
  return db.query<BacklogRow>(
    `select e.id as "enrollmentId", e.step_seq as "stepSeq" from enrollments e
     where e.workspace_id = $1 and e.status in ('active', 'waiting')
       and e.next_execution_at is not null and e.next_execution_at <= $2
       and e.sequence_id = $3 and e.sequence_version = $4 and e.current_step_id = $5
     order by e.next_execution_at
     limit $6`,
    [args.workspaceId, args.now, args.sequenceId, args.sequenceVersion, args.stepId, args.limit],
  );
}

/**
 * Makes each row due at its `at`, if it is still what `dueOnStep` read: live, on the same visit
 * of the step, due and not claimed since (a row claimed meanwhile keeps its claim; its send
 * finds its place kept for its key). Answers how many were deferred.
 */
export async function deferDueOnStep(
  db: Queryable,
  args: { stepId: string; now: Date; rows: Array<BacklogRow & { at: Date }> },
): Promise<number> {
  if (args.rows.length === 0) return 0;
  const rows = await db.query<{ id: string }>(
    `update enrollments e set next_execution_at = d.at, lease_id = null
     from unnest($1::uuid[], $2::int[], $3::timestamptz[]) as d(id, seq, at)
     where e.id = d.id and e.step_seq = d.seq and e.current_step_id = $4
       and e.status in ('active', 'waiting') and e.next_execution_at <= $5
     returning e.id`,
    [args.rows.map((r) => r.enrollmentId), args.rows.map((r) => r.stepSeq), args.rows.map((r) => r.at.toISOString()), args.stepId, args.now],
  );
  return rows.length;
}
