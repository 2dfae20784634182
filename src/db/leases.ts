/**
 * Lease hand-offs for the distributed dispatcher. The lease is `next_execution_at` plus
 * `lease_id` (see claimDue); these functions move it between processes without ever letting two
 * hold it at once.
 */
import { RUNNABLE_STATUSES } from '../core/transitions.ts';
import type { Queryable } from './db.ts';
import { statusList } from './enrollmentChanges.ts';

/**
 * A worker lets go of its lease: a wake that was asked for meanwhile (`wakeColumns` in
 * enrollmentChanges.ts) is honoured now — the row is due at `at` if it may run.
 */
function letGoColumns(at: string): string {
  return `lease_id = null, wake_requested = false,
    next_execution_at = case when e.wake_requested and e.status in ${statusList(RUNNABLE_STATUSES)} then ${at} else e.next_execution_at end`;
}

export interface HeldLease {
  enrollmentId: string;
  leaseId: string;
  workspaceId: string;
  stepId: string | null;
}

/**
 * Workers take over the leases the dispatcher took, a batch of jobs in one statement:
 * compare-and-swap on each job's lease id, so a duplicated or stale job (its lease expired and
 * was re-claimed) or a finished enrollment changes nothing, runs nothing and is missing from
 * the answer. The held leases move to `toLeaseId`, renewed from now, since the jobs may have
 * waited in the queue. The leases go in in enrollment-id order, so two batches that overlap (a
 * stale job beside its successor) tend to lock their rows in the same order.
 */
export async function takeOverLeases(
  db: Queryable,
  args: { leases: Array<{ enrollmentId: string; leaseId: string }>; toLeaseId: string; leaseUntil: Date; now: Date },
): Promise<HeldLease[]> {
  if (args.leases.length === 0) return [];
  const leases = [...args.leases].sort((a, b) => (a.enrollmentId < b.enrollmentId ? -1 : a.enrollmentId > b.enrollmentId ? 1 : 0));
  // A job whose enrollment was paused (or finished) while it waited in the queue still holds
  // the dispatcher's lease: give it back, so a resume runs at once instead of after the lease.
  // Not filtered by status: a resume that commits while this runs is seen here (the row is
  // re-checked after its lock) and, asking for a wake-up, makes the row due now.
  return db.query<HeldLease>(
    `with l as (select * from unnest($1::uuid[], $2::uuid[]) as l(id, lease_id)),
     taken as (
       update enrollments e set lease_id = $3, next_execution_at = $4
       from l
       where e.id = l.id and e.lease_id = l.lease_id and e.status in ('active', 'waiting')
       returning e.id as "enrollmentId", e.lease_id as "leaseId", e.workspace_id as "workspaceId", e.current_step_id as "stepId"),
     released as (
       update enrollments e set ${letGoColumns('$5')}
       from l
       where e.id = l.id and e.lease_id = l.lease_id and e.id not in (select "enrollmentId" from taken)
       returning e.id)
     select * from taken`,
    [leases.map((l) => l.enrollmentId), leases.map((l) => l.leaseId), args.toLeaseId, args.leaseUntil, args.now],
  );
}

/**
 * Lets go of claims the executor found it had nothing to do for (paused or finished since they
 * were claimed): the lease is cleared, and a row that was resumed meanwhile (it asked for a
 * wake-up) is due at `now`. Without this a resume waited the whole lease out.
 */
export async function letGoOfClaims(db: Queryable, leases: Array<{ enrollmentId: string; leaseId: string }>, now: Date): Promise<number> {
  if (leases.length === 0) return 0;
  const rows = await db.query(
    `update enrollments e set ${letGoColumns('$3')}
     from unnest($1::uuid[], $2::uuid[]) as l(id, lease_id)
     where e.id = l.id and e.lease_id = l.lease_id
     returning e.id`,
    [leases.map((l) => l.enrollmentId), leases.map((l) => l.leaseId), now],
  );
  return rows.length;
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
