/**
 * Lease hand-offs for the distributed dispatcher. The lease is `next_execution_at` plus
 * `lease_id` (see claimDue); these functions move it between processes without ever letting two
 * hold it at once.
 */
import type { Queryable } from './db.ts';

export interface HeldLease {
  enrollmentId: string;
  leaseId: string;
  workspaceId: string;
  stepId: string | null;
}

/**
 * A worker takes over the lease the dispatcher took: compare-and-swap on the lease id, so a
 * duplicated or stale job (its lease expired and was re-claimed) changes nothing and runs
 * nothing. The lease is renewed from now, since the job may have waited in the queue.
 */
export async function takeOverLease(
  db: Queryable,
  args: { enrollmentId: string; fromLeaseId: string; toLeaseId: string; leaseUntil: Date },
): Promise<HeldLease | undefined> {
  const [row] = await db.query<HeldLease>(
    `update enrollments set lease_id = $3, next_execution_at = $4
     where id = $1 and lease_id = $2 and status in ('active', 'waiting')
     returning id as "enrollmentId", lease_id as "leaseId", workspace_id as "workspaceId", current_step_id as "stepId"`,
    [args.enrollmentId, args.fromLeaseId, args.toLeaseId, args.leaseUntil],
  );
  return row;
}

/**
 * Gives back leases taken but not started (a dispatch that could not be enqueued, a worker
 * shutting down): due again at `now`, so the next dispatch picks them up without waiting for
 * the lease to run out.
 */
export async function releaseLeases(db: Queryable, leases: Array<{ enrollmentId: string; leaseId: string }>, now: Date): Promise<number> {
  if (leases.length === 0) return 0;
  const rows = await db.query(
    `update enrollments e set next_execution_at = $3, lease_id = null
     from unnest($1::uuid[], $2::uuid[]) as l(id, lease_id)
     where e.id = l.id and e.lease_id = l.lease_id
     returning e.id`,
    [leases.map((l) => l.enrollmentId), leases.map((l) => l.leaseId), now],
  );
  return rows.length;
}

/** Enrollments currently held by some worker (leased and not yet run out). */
export async function countLeased(db: Queryable, now: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from enrollments
     where status in ('active', 'waiting') and lease_id is not null and next_execution_at > $1`,
    [now],
  );
  return row?.n ?? 0;
}
