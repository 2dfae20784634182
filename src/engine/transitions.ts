/**
 * The executor's writes to an enrollment, each fenced by the lease it holds: a worker whose
 * lease ran out (and was taken over) changes nothing. Each returns the row as it now stands,
 * or undefined when the fence refused.
 */
import type { EnrollmentStatus } from '../core/enrollmentStatus.ts';
import type { Queryable } from '../db/db.ts';
import { ENROLLMENT_COLUMNS, recordChange, type EnrollmentRecord } from '../db/enrollments.ts';

const RETURNING = ENROLLMENT_COLUMNS.split(',')
  .map((c) => `e.${c.trim()}`)
  .join(', ');

type Fenced = { enrollment: EnrollmentRecord; leaseId: string; now: Date };

async function update(
  tx: Queryable,
  fenced: Fenced,
  set: string,
  params: unknown[],
  audit?: { action: string; reason?: string | null },
): Promise<EnrollmentRecord | undefined> {
  const [row] = await tx.query<EnrollmentRecord & { fromStatus: EnrollmentStatus }>(
    `with old as (select id, status from enrollments where id = $1 and lease_id = $2 for update)
     update enrollments e set ${set}, updated_at = $3
     from old where e.id = old.id
     returning ${RETURNING}, old.status as "fromStatus"`,
    [fenced.enrollment.id, fenced.leaseId, fenced.now, ...params],
  );
  if (!row) return undefined;
  const { fromStatus, ...enrollment } = row;
  if (audit && fromStatus !== enrollment.status) {
    await recordChange(tx, {
      enrollment,
      actor: 'system',
      action: audit.action,
      from: fromStatus,
      to: enrollment.status,
      reason: audit.reason,
      at: fenced.now,
    });
  }
  return enrollment;
}

/**
 * Moves to `next` (null: the sequence is done). `keepLease` lets the same worker run the next
 * step at once without another claim. A paused or cancelled enrollment keeps its status: the
 * pointer moves (the step did run), nothing else happens until an operator acts.
 */
export function moveToStep(
  tx: Queryable,
  fenced: Fenced,
  args: { next: string | null; dueAt: Date; keepLeaseUntil?: Date },
): Promise<EnrollmentRecord | undefined> {
  if (args.next === null) return finish(tx, fenced, { status: 'completed', action: 'complete' });
  const keep = args.keepLeaseUntil !== undefined;
  return update(
    tx,
    fenced,
    `current_step_id = $4, step_seq = e.step_seq + 1, step_entered_at = $3, attempts = 0,
     status = case when e.status = 'waiting' then 'active' else e.status end, waiting_for = null,
     next_execution_at = case when e.wake_requested then least($5::timestamptz, $3) else $5::timestamptz end,
     lease_id = case when $6 then e.lease_id end, wake_requested = false`,
    [args.next, keep ? args.keepLeaseUntil : args.dueAt, keep],
    { action: 'advance' },
  );
}

/** Ends a live enrollment (completed, exited, failed); an operator's terminal status stands. */
export function finish(
  tx: Queryable,
  fenced: Fenced,
  args: { status: EnrollmentStatus; action: string; reason?: string | null },
): Promise<EnrollmentRecord | undefined> {
  return update(
    tx,
    fenced,
    `status = case when e.status in ('active', 'waiting', 'paused') then $4 else e.status end,
     status_reason = case when e.status in ('active', 'waiting', 'paused') then $5 else e.status_reason end,
     finished_at = case when e.status in ('active', 'waiting', 'paused') then $3 else e.finished_at end,
     current_step_id = case when $4 = 'completed' then null else e.current_step_id end,
     waiting_for = null, next_execution_at = null, lease_id = null, wake_requested = false`,
    [args.status, args.reason ?? null],
    { action: args.action, reason: args.reason },
  );
}

/** Stays on the step and comes back at `at` (a wait, a window, a retry); `waitingFor` parks it. */
export function reschedule(
  tx: Queryable,
  fenced: Fenced,
  args: { at: Date | null; waitingFor?: 'task' | 'branch'; attempts?: number },
): Promise<EnrollmentRecord | undefined> {
  return update(
    tx,
    fenced,
    `next_execution_at = case when e.wake_requested then $3 else $4::timestamptz end,
     status = case when e.status in ('active', 'waiting') then (case when $5::text is null then 'active' else 'waiting' end)
                   else e.status end,
     waiting_for = $5, attempts = coalesce($6, e.attempts), lease_id = null, wake_requested = false`,
    [args.at, args.waitingFor ?? null, args.attempts ?? null],
    { action: args.waitingFor ? `wait_for_${args.waitingFor}` : 'resume_step' },
  );
}

/** Holds the enrollment for an operator (a send whose outcome is unknown). */
export function pauseForOperator(tx: Queryable, fenced: Fenced, reason: string): Promise<EnrollmentRecord | undefined> {
  return update(
    tx,
    fenced,
    `status = case when e.status in ('active', 'waiting') then 'paused' else e.status end, status_reason = $4,
     next_execution_at = null, lease_id = null, wake_requested = false`,
    [reason],
    { action: 'pause', reason },
  );
}
