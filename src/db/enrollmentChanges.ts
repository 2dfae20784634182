/**
 * Every change of an enrollment's status outside the executor's batches, one function per kind
 * of change, each with its audit row (`enrollment_changes`: who, when, from, to, reason). Which
 * change is legal from which status is `src/core/transitions.ts`; callers ask it first, and the
 * functions here only write what it allowed. The executor's own changes go through
 * `engine_apply_steps` and `engine_record_failures` (`src/db/stepEnds.ts`, `enrollments.ts`).
 */
import { LIVE_STATUSES, RUNNABLE_STATUSES, SYSTEM_TRANSITIONS, type EnrollmentStatus, type OperatorAction } from '../core/transitions.ts';
import type { Queryable } from './db.ts';
import { ENROLLMENT_COLUMNS, type EnrollmentRecord } from './enrollments.ts';

/**
 * The wake, written once: the enrollment should look again at `at`. A row no worker holds is
 * due then; a leased row keeps its lease (moving its due time would break it) and asks, through
 * `wake_requested`, to be due at once when its worker lets go (`letGoOfClaims`,
 * `engine_apply_steps`). `onlyIf`: an SQL condition on the row's old values for it to be made
 * due (a paused row keeps its place, so its next run time stays what it was).
 */
export function wakeColumns(at: string, options: { alias?: string; onlyIf?: string } = {}): string {
  const p = options.alias ? `${options.alias}.` : '';
  const free = options.onlyIf ? `(${options.onlyIf}) and ${p}lease_id is null` : `${p}lease_id is null`;
  return `next_execution_at = case when ${free} then ${at} else ${p}next_execution_at end,
    wake_requested = ${p}lease_id is not null`;
}

/** A list of statuses as an SQL literal, `('active', 'waiting')`: the core table's sets, spelled for a statement. */
export function statusList(statuses: readonly EnrollmentStatus[]): string {
  return `(${statuses.map((s) => `'${s}'`).join(', ')})`;
}

const LIVE_SQL = statusList(LIVE_STATUSES);

/**
 * The columns each operator action changes beside the status ($4 is now, $5 the step a skip
 * moves to). A row still leased by a worker keeps its lease (the worker finishes its step and
 * lets go); `wake_requested` makes it run again right after.
 */
const OPERATOR_COLUMNS: Record<OperatorAction, string> = {
  pause: 'wake_requested = false',
  resume: wakeColumns('$4'),
  cancel: 'next_execution_at = null, finished_at = $4, wake_requested = false',
  convert: 'next_execution_at = null, finished_at = $4, wake_requested = false',
  // Skipping moves the visit on and takes the lease away: a worker busy with the skipped step
  // may finish its send (it is recorded) but can no longer move the enrollment a second time.
  skip: `current_step_id = $5, step_seq = step_seq + 1, step_entered_at = $4, attempts = 0, waiting_for = null, waiting_since = null,
         next_execution_at = case when $5::text is null then null else $4::timestamptz end,
         finished_at = case when $5::text is null then $4::timestamptz end,
         lease_id = null, wake_requested = false`,
  // Back on its current step, due now, the count of failures reset. A send that failed for
  // good (its visit's execution is `failed`) is tried again as a new visit; any other visit
  // carries on as it stands, so a message that went out, or may have, is never sent twice.
  retry: `step_seq = step_seq + case when exists (select 1 from sequence_executions x
             where x.enrollment_id = enrollments.id and x.step_id = enrollments.current_step_id
               and x.visit = enrollments.step_seq and x.status = 'failed') then 1 else 0 end,
         step_entered_at = case when exists (select 1 from sequence_executions x
             where x.enrollment_id = enrollments.id and x.step_id = enrollments.current_step_id
               and x.visit = enrollments.step_seq and x.status = 'failed') then $4 else step_entered_at end,
         consecutive_failures = 0, attempts = 0, waiting_for = null, waiting_since = null, finished_at = null, next_execution_at = $4,
         lease_id = null, wake_requested = false`,
};

/**
 * An operator's action on a locked enrollment, to the status the state machine gave (`to`),
 * with its audit row. `skipTo`: for a skip, the step it moves to (null: past the end).
 */
export async function applyOperatorChange(
  tx: Queryable,
  args: {
    current: EnrollmentRecord;
    action: OperatorAction;
    to: EnrollmentStatus;
    actor: string;
    reason?: string | null;
    now: Date;
    skipTo?: string | null;
  },
): Promise<EnrollmentRecord> {
  const [updated] = await applyOperatorChanges(tx, { ...args, changes: [{ current: args.current, to: args.to }] });
  return updated!;
}

/**
 * One operator action on many locked enrollments (a bulk pause or cancel), each to the status
 * the state machine gave it: one update and one insert of audit rows for the batch.
 */
export async function applyOperatorChanges(
  tx: Queryable,
  args: {
    changes: ReadonlyArray<{ current: EnrollmentRecord; to: EnrollmentStatus }>;
    action: OperatorAction;
    actor: string;
    reason?: string | null;
    now: Date;
    skipTo?: string | null;
  },
): Promise<EnrollmentRecord[]> {
  const { changes, action, now } = args;
  if (changes.length === 0) return [];
  const updated = await tx.query<EnrollmentRecord>(
    `update enrollments set status = c.change_to, status_reason = $3, updated_at = $4, ${OPERATOR_COLUMNS[action]}
     from unnest($1::uuid[], $2::text[]) as c(change_id, change_to)
     where enrollments.id = c.change_id returning ${ENROLLMENT_COLUMNS.split(',').map((c) => `enrollments.${c.trim()}`).join(', ')}`,
    [changes.map((c) => c.current.id), changes.map((c) => c.to), args.reason ?? null, now, ...(action === 'skip' ? [args.skipTo ?? null] : [])],
  );
  await recordChanges(
    tx,
    changes.map(({ current, to }) => ({ enrollment: current, actor: args.actor, action, from: current.status, to, reason: args.reason, at: now })),
  );
  return updated;
}

/**
 * Enrollments that look again at once (an outcome was recorded, an event arrived); a paused one
 * keeps its place. `stamp`: the change is the enrollment's own (an operator's outcome), so
 * `updated_at` moves too.
 */
export async function wakeEnrollments(tx: Queryable, ids: readonly string[], now: Date, options: { stamp?: boolean } = {}): Promise<EnrollmentRecord[]> {
  if (ids.length === 0) return [];
  return tx.query<EnrollmentRecord>(
    `update enrollments set ${wakeColumns('$2', { onlyIf: `status in ${statusList(RUNNABLE_STATUSES)}` })}${options.stamp ? ', updated_at = $2' : ''}
     where id = any($1::uuid[]) returning ${ENROLLMENT_COLUMNS}`,
    [ids, now],
  );
}

/** A live enrollment of a lead, locked, with its pinned definition as stored. */
export type LockedLiveEnrollment = EnrollmentRecord & { definition: unknown };

/**
 * Locks every live enrollment of a lead (but `except`), in id order (the executor's lock
 * order), each with its stored definition: an exit rule needs both.
 */
export async function lockLiveEnrollmentsOfLead(tx: Queryable, leadId: string, except?: string): Promise<LockedLiveEnrollment[]> {
  const cols = ENROLLMENT_COLUMNS.split(',').map((c) => `e.${c.trim()}`).join(', ');
  return tx.query<LockedLiveEnrollment>(
    `select ${cols}, v.definition from enrollments e
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where e.lead_id = $1 and e.status in ${LIVE_SQL} and e.id is distinct from $2::uuid
     order by e.id for update of e`,
    [leadId, except ?? null],
  );
}

/**
 * Locks the live enrollments of many leads of a workspace, in id order (the executor's lock
 * order): what a bulk pause or cancel acts on. `lock: false` (a dry run) only reads them.
 */
export async function lockLiveEnrollmentsOfLeads(
  tx: Queryable,
  workspaceId: string,
  leadIds: readonly string[],
  options: { lock: boolean } = { lock: true },
): Promise<EnrollmentRecord[]> {
  if (leadIds.length === 0) return [];
  return tx.query<EnrollmentRecord>(
    `select ${ENROLLMENT_COLUMNS} from enrollments
     where workspace_id = $1 and lead_id = any($2::uuid[]) and status in ${LIVE_SQL}
     order by id${options.lock ? ' for update' : ''}`,
    [workspaceId, leadIds],
  );
}

/** An exit rule fired for a locked live enrollment: `exited`, with the trigger's reason and an audit row. */
export async function exitEnrollment(
  tx: Queryable,
  args: { enrollment: EnrollmentRecord; reason: string; actor: string; now: Date },
): Promise<void> {
  const { enrollment, reason, now } = args;
  const to = SYSTEM_TRANSITIONS.exit.to;
  await tx.query(
    `update enrollments set status = $4, status_reason = $2, finished_at = $3, updated_at = $3,
       next_execution_at = null, waiting_for = null, wake_requested = false where id = $1`,
    [enrollment.id, reason, now, to],
  );
  await recordChange(tx, { enrollment, actor: args.actor, action: SYSTEM_TRANSITIONS.exit.audit, from: enrollment.status, to, reason, at: now });
}

/** The enrollment's latest cancel (what an undo takes back: the status it left and when), or nothing. */
export async function lastCancelOf(tx: Queryable, enrollmentId: string): Promise<{ from: EnrollmentStatus | null; at: Date } | undefined> {
  const [row] = await tx.query<{ from: EnrollmentStatus | null; at: Date }>(
    `select from_status as "from", at from enrollment_changes where enrollment_id = $1 and action = 'cancel' order by at desc limit 1`,
    [enrollmentId],
  );
  return row;
}

/**
 * Takes a cancel back on a locked enrollment (`undoCancelTransition` said so): `to` is `paused`
 * (it keeps its place, resume makes it due) or `active`, due now on its current step with what
 * it waited for cleared, so the engine decides the step again. Audited as `undo_cancel`.
 */
export async function restoreCancelled(
  tx: Queryable,
  args: { current: EnrollmentRecord; to: EnrollmentStatus; actor: string; now: Date },
): Promise<EnrollmentRecord> {
  const { current, to, now } = args;
  const [updated] = await tx.query<EnrollmentRecord>(
    `update enrollments set status = $2, status_reason = null, updated_at = $3, finished_at = null,
       waiting_for = null, waiting_since = null, lease_id = null, wake_requested = false,
       next_execution_at = case when $2 = 'paused' then null else $3::timestamptz end
     where id = $1 returning ${ENROLLMENT_COLUMNS}`,
    [current.id, to, now],
  );
  await recordChange(tx, { enrollment: current, actor: args.actor, action: 'undo_cancel', from: current.status, to, at: now });
  return updated!;
}

/** Another live enrollment of the same lead in the same sequence (one may be live at a time). */
export async function liveTwinOf(tx: Queryable, enrollment: EnrollmentRecord): Promise<string | undefined> {
  const [row] = await tx.query<{ id: string }>(
    `select id from enrollments where sequence_id = $1 and lead_id = $2 and id <> $3 and status in ${LIVE_SQL} limit 1`,
    [enrollment.sequenceId, enrollment.leadId, enrollment.id],
  );
  return row?.id;
}

export interface EnrollmentChange {
  enrollment: Pick<EnrollmentRecord, 'id' | 'workspaceId' | 'leadId'>;
  actor: string;
  action: string;
  from: EnrollmentStatus | null;
  to: EnrollmentStatus;
  reason?: string | null;
  at: Date;
}

export async function recordChange(tx: Queryable, change: EnrollmentChange): Promise<void> {
  await recordChanges(tx, [change]);
}

/** The audit rows of many changes, one statement. */
export async function recordChanges(tx: Queryable, changes: readonly EnrollmentChange[]): Promise<void> {
  if (changes.length === 0) return;
  const column = <T>(pick: (c: EnrollmentChange) => T) => changes.map(pick);
  await tx.query(
    `insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
     select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])`,
    [
      column((c) => c.enrollment.workspaceId),
      column((c) => c.enrollment.id),
      column((c) => c.enrollment.leadId),
      column((c) => c.actor),
      column((c) => c.action),
      column((c) => c.from),
      column((c) => c.to),
      column((c) => c.reason ?? null),
      column((c) => c.at),
    ],
  );
}
