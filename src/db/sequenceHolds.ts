/**
 * Pausing a sequence holds its live enrollments; re-activating it releases exactly those it
 * held (marked `status_reason = 'sequence_paused'`), not the ones an operator paused. Each
 * change is an audit row, like an operator's pause or resume.
 */
import { SYSTEM_TRANSITIONS } from '../core/transitions.ts';
import type { Queryable } from './db.ts';
import { statusList, wakeColumns } from './enrollmentChanges.ts';

const HOLD = SYSTEM_TRANSITIONS.hold;
const RELEASE = SYSTEM_TRANSITIONS.release;

export const SEQUENCE_HOLD_REASON = 'sequence_paused';

/** Sets every active or waiting enrollment of the sequence paused; answers how many. */
export async function holdSequenceEnrollments(tx: Queryable, args: { sequenceId: string; actor: string; now: Date }): Promise<number> {
  const rows = await tx.query(
    `with held as (
       update enrollments e set status = '${HOLD.to}', status_reason = $3, wake_requested = false, updated_at = $2
       from (select id, status from enrollments where sequence_id = $1 and status in ${statusList(HOLD.from)} for update) old
       where e.id = old.id
       returning e.id, e.workspace_id, e.lead_id, old.status as from_status),
     audit as (
       insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
       select workspace_id, id, lead_id, $4, '${HOLD.audit}', from_status, '${HOLD.to}', $3, $2 from held)
     select id from held`,
    [args.sequenceId, args.now, SEQUENCE_HOLD_REASON, args.actor],
  );
  return rows.length;
}

/** Resumes the enrollments the sequence's pause held, due at once; answers how many. */
export async function releaseSequenceEnrollments(tx: Queryable, args: { sequenceId: string; actor: string; now: Date }): Promise<number> {
  const rows = await tx.query(
    `with released as (
       update enrollments e set status = '${RELEASE.to}', status_reason = null, updated_at = $2, waiting_for = null,
         ${wakeColumns('$2', { alias: 'e' })}
       from (select id from enrollments where sequence_id = $1 and status in ${statusList(RELEASE.from)} and status_reason = $3 for update) old
       where e.id = old.id
       returning e.id, e.workspace_id, e.lead_id),
     audit as (
       insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
       select workspace_id, id, lead_id, $4, '${RELEASE.audit}', 'paused', '${RELEASE.to}', 'sequence_resumed', $2 from released)
     select id from released`,
    [args.sequenceId, args.now, SEQUENCE_HOLD_REASON, args.actor],
  );
  return rows.length;
}

export async function countLiveEnrollments(db: Queryable, sequenceId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from enrollments where sequence_id = $1 and status in ('active', 'waiting', 'paused')`,
    [sequenceId],
  );
  return row?.n ?? 0;
}

/** Sends of this sequence between intent and outcome: a pause waits for them to be recorded. */
export async function countSendsInFlight(db: Queryable, sequenceId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from sequence_executions where sequence_id = $1 and status = 'started'`,
    [sequenceId],
  );
  return row?.n ?? 0;
}
