/**
 * Out-of-office pauses (docs/MAILBOXES.md, "Auto-replies"): an auto-reply holds the lead's
 * running enrollments until the day it says its writer is back (`paused_until`, status
 * `paused`, reason `auto_reply`), and they resume by themselves then. The same transitions as a
 * sequence's hold and release (src/core/transitions.ts), with their audit rows; an enrollment an
 * operator paused is never touched, and one whose sequence was paused meanwhile is handed to the
 * sequence's hold instead of resuming.
 */
import { SYSTEM_TRANSITIONS } from '../core/transitions.ts';
import type { Queryable } from './db.ts';
import { statusList, wakeColumns } from './enrollmentChanges.ts';
import { SEQUENCE_HOLD_REASON } from './sequenceHolds.ts';

const HOLD = SYSTEM_TRANSITIONS.hold;
const RELEASE = SYSTEM_TRANSITIONS.release;

export const AUTO_REPLY_REASON = 'auto_reply';

/**
 * Pauses the running enrollments of these leads until `until` (an audit row each, `reason`
 * saying why and until when), and moves the end of those an earlier auto-reply paused to
 * `until` if later. Answers the enrollments paused now or extended.
 */
export async function pauseForAutoReply(
  tx: Queryable,
  args: { leadIds: readonly string[]; until: Date; now: Date; reason: string; actor: string },
): Promise<string[]> {
  if (args.leadIds.length === 0) return [];
  const rows = await tx.query<{ id: string }>(
    `with target as (
       select id, status from enrollments
        where lead_id = any($1::uuid[])
          and (status in ${statusList(HOLD.from)} or (status = 'paused' and status_reason = $4 and paused_until is not null))
        order by id for update),
     held as (
       update enrollments e set status = '${HOLD.to}', status_reason = $4,
              paused_until = case when t.status = 'paused' then greatest(e.paused_until, $2) else $2 end, wake_requested = false, updated_at = $3
         from target t where e.id = t.id
       returning e.id, e.workspace_id, e.lead_id, t.status as from_status),
     audit as (
       insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
       select workspace_id, id, lead_id, $6, '${HOLD.audit}', from_status, '${HOLD.to}', $5, $3 from held where from_status <> 'paused')
     select id from held`,
    [args.leadIds, args.until, args.now, AUTO_REPLY_REASON, args.reason, args.actor],
  );
  return rows.map((r) => r.id);
}

/**
 * Resumes the enrollments whose auto-reply pause has run out (due at once, audit row
 * `auto_reply_over`); one whose sequence is paused now stays paused, under the sequence's hold.
 * Answers how many resumed.
 */
export async function releaseAutoReplyPauses(db: Queryable, now: Date, actor = 'system'): Promise<number> {
  await db.query(
    `update enrollments e set status_reason = $3, paused_until = null
       from sequences s
      where s.id = e.sequence_id and s.status = 'paused'
        and e.status = 'paused' and e.status_reason = $2 and e.paused_until <= $1`,
    [now, AUTO_REPLY_REASON, SEQUENCE_HOLD_REASON],
  );
  const rows = await db.query<{ id: string }>(
    `with due as (
       select id from enrollments
        where status = 'paused' and status_reason = $2 and paused_until <= $1
        order by id for update skip locked),
     released as (
       update enrollments e set status = '${RELEASE.to}', status_reason = null, paused_until = null, waiting_for = null,
              updated_at = $1, ${wakeColumns('$1', { alias: 'e' })}
         from due where e.id = due.id
       returning e.id, e.workspace_id, e.lead_id),
     audit as (
       insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
       select workspace_id, id, lead_id, $3, '${RELEASE.audit}', 'paused', '${RELEASE.to}', 'auto_reply_over', $1 from released)
     select id from released`,
    [now, AUTO_REPLY_REASON, actor],
  );
  return rows.length;
}

/** When the next auto-reply pause runs out, if any does. */
export async function nextAutoReplyRelease(db: Queryable): Promise<Date | undefined> {
  const [row] = await db.query<{ at: Date | null }>(
    `select min(paused_until) as at from enrollments where status = 'paused' and status_reason = $1 and paused_until is not null`,
    [AUTO_REPLY_REASON],
  );
  return row?.at ?? undefined;
}
