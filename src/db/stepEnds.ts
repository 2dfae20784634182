/**
 * The end of a step, for a whole batch at once (`src/db/functions/engine_apply_steps.sql`): what
 * happened to each enrollment's execution and where the enrollment goes next, in one
 * transaction. Every transition is fenced by the lease the executor holds: a worker whose lease
 * ran out (and was taken over) moves nothing, though what its adapter answered is still
 * recorded — the send did happen. The status each end leaves is `statusAfterStepEnd` in
 * `src/core/transitions.ts`; the function spells the same table in SQL.
 */
import type { EnrollmentStatus } from '../core/transitions.ts';
import type { Queryable } from './db.ts';
import type { ExecutionIdentity } from './executions.ts';

export type StepTransition =
  /** To `next` (a new visit), due at `dueAt`; `keepLeaseUntil` keeps the lease to run it at once. */
  | { kind: 'move'; next: string; dueAt: Date; keepLeaseUntil?: Date }
  /** Ends a live enrollment (completed, exited, failed); an operator's terminal status stands. */
  | { kind: 'finish'; status: Extract<EnrollmentStatus, 'completed' | 'exited' | 'failed'>; action: string; reason?: string }
  /** Stays on the step and comes back at `at` (a wait, a window, a retry); `waitingFor` parks it. */
  | { kind: 'reschedule'; at: Date | null; waitingFor?: 'task' | 'branch'; attempts?: number }
  /** Holds the enrollment for an operator (a send whose outcome is unknown). */
  | { kind: 'pause'; reason: string };

export type ExecutionWrite =
  /**
   * What the adapter answered for the intent `id`, on its attempt `attempt`: an answer for an
   * earlier attempt (a stalled worker's, after another took the visit over and tried again)
   * changes nothing (docs/SIMULATION.md, Findings 4).
   */
  | {
      kind: 'complete';
      id: string;
      /** The executor always says; without it the answer applies to whichever attempt is recorded. */
      attempt?: number;
      status: 'succeeded' | 'failed' | 'retry_scheduled';
      providerMessageId?: string;
      errorCode?: string;
      errorMessage?: string;
      metadata?: Record<string, unknown>;
    }
  /** The adapter threw on attempt `attempt`: whether the provider took it cannot be known. */
  | { kind: 'unknown'; id: string; attempt?: number; errorCode?: string; errorMessage?: string }
  /** A step that ran without an adapter call, or failed before one. */
  | {
      kind: 'record';
      identity: ExecutionIdentity;
      status: 'succeeded' | 'skipped' | 'failed';
      metadata?: Record<string, unknown>;
      rendered?: Record<string, unknown> | null;
      errorCode?: string;
      errorMessage?: string;
      adapter?: string | null;
    };

export interface StepEnd {
  enrollmentId: string;
  leaseId: string;
  now: Date;
  execution?: ExecutionWrite;
  transition: StepTransition;
}

/** Applies every step end in one statement; answers the status of each enrollment it moved. */
export async function applyStepEnds(db: Queryable, ends: StepEnd[]): Promise<Map<string, EnrollmentStatus>> {
  if (ends.length === 0) return new Map();
  const sent = ends.flatMap((e) => (e.execution?.kind === 'complete' && e.execution.status === 'succeeded' ? [e.execution.id] : []));
  const rows = await db.query<{ enrollmentId: string; status: EnrollmentStatus }>(
    sent.length === 0 ? APPLY : APPLY_AND_MARK_CONTACTED,
    sent.length === 0 ? [JSON.stringify(ends.map(toRow))] : [JSON.stringify(ends.map(toRow)), sent, ends[0]!.now],
  );
  return new Map(rows.map((r) => [r.enrollmentId, r.status]));
}

const APPLY = 'select enrollment_id as "enrollmentId", status from engine_apply_steps($1::jsonb)';

/**
 * The same, and a lead a send reached that is still `new` becomes `contacted` (the lead
 * lifecycle, src/core/leadStatus.ts) in the same statement: a lead already contacted costs a
 * primary-key probe and no write. The leads are written after the enrollments are locked, the
 * order every other writer of both keeps.
 */
const APPLY_AND_MARK_CONTACTED = `with steps as (select enrollment_id, status from engine_apply_steps($1::jsonb)),
  contacted as (
    update leads l set status = 'contacted', updated_at = $3
    from sequence_executions x
    where x.id = any($2::uuid[]) and l.id = x.lead_id and l.status = 'new')
  select enrollment_id as "enrollmentId", status from steps`;

/** One element of `engine_apply_steps`'s input (its column names). */
function toRow(end: StepEnd): Record<string, unknown> {
  const { execution: x, transition: t } = end;
  const row: Record<string, unknown> = {
    enrollment_id: end.enrollmentId,
    lease_id: end.leaseId,
    now: end.now.toISOString(),
    kind: t.kind,
    action: actionOf(t),
  };
  switch (t.kind) {
    case 'move':
      row.next_step_id = t.next;
      row.keep_lease = t.keepLeaseUntil !== undefined;
      row.next_at = (t.keepLeaseUntil ?? t.dueAt).toISOString();
      break;
    case 'finish':
      row.finish_status = t.status;
      row.reason = t.reason ?? null;
      break;
    case 'reschedule':
      row.next_at = t.at?.toISOString() ?? null;
      row.wait_for = t.waitingFor ?? null;
      row.attempts = t.attempts ?? null;
      break;
    case 'pause':
      row.reason = t.reason;
      break;
  }
  if (!x) return row;
  row.exec_kind = x.kind;
  if (x.kind === 'complete') {
    Object.assign(row, {
      exec_id: x.id,
      exec_attempt: x.attempt ?? null,
      exec_status: x.status,
      provider_message_id: x.providerMessageId ?? null,
      error_code: x.errorCode ?? null,
      error_message: x.errorMessage ?? null,
      exec_metadata: x.metadata ?? {},
    });
  } else if (x.kind === 'unknown') {
    row.exec_id = x.id;
    row.exec_attempt = x.attempt ?? null;
    row.error_code = x.errorCode ?? null;
    row.error_message = x.errorMessage ?? null;
  } else {
    const { identity } = x;
    Object.assign(row, {
      exec_status: x.status,
      exec_metadata: x.metadata ?? {},
      rendered: x.rendered ?? null,
      error_code: x.errorCode ?? null,
      error_message: x.errorMessage ?? null,
      adapter: x.adapter ?? null,
      workspace_id: identity.workspaceId,
      lead_id: identity.leadId,
      sequence_id: identity.sequenceId,
      step_id: identity.stepId,
      step_type: identity.stepType,
      channel: identity.channel,
      visit: identity.visit,
    });
  }
  return row;
}

/** The audit trail's name for a transition that changes the status. */
function actionOf(t: StepTransition): string {
  switch (t.kind) {
    case 'move':
      return 'advance';
    case 'finish':
      return t.action;
    case 'reschedule':
      return t.waitingFor ? `wait_for_${t.waitingFor}` : 'resume_step';
    case 'pause':
      return 'pause';
  }
}
