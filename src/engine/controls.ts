/**
 * Operator controls: pause, resume, cancel, skip, convert, and recording an outcome. Each
 * serialises with the executor on the enrollment's row lock. Once a control answers, it is
 * final: no send starts after it (the executor re-checks under the same lock before its
 * intent), and a send already handed to the provider has been recorded (we wait for it).
 */
import { randomUUID } from 'node:crypto';
import { operatorTransition, type EnrollmentStatus, type OperatorAction } from '../core/enrollmentStatus.ts';
import type { Db } from '../db/db.ts';
import { nextStepId } from '../core/decide.ts';
import type { Queryable } from '../db/db.ts';
import { ENROLLMENT_COLUMNS, lockEnrollment, recordChange, type EnrollmentRecord } from '../db/enrollments.ts';
import { insertEvent } from '../db/events.ts';
import { advanceLeadStatus } from '../db/leads.ts';
import { recordFinishedExecution } from '../db/executions.ts';
import { getDefinition } from '../db/sequences.ts';
import type { Clock } from './clock.ts';
import { waitForSendsInFlight } from './inFlight.ts';
import { parseStoredDefinition } from './context.ts';
import { exitOnTrigger } from './ingest.ts';

export type ControlResult =
  | { ok: true; enrollment: EnrollmentRecord }
  | { ok: false; code: 'not_found' | 'conflict'; message: string };

export interface ControlDeps {
  db: Db;
  clock: Clock;
  /** Tells the dispatcher something is due now. */
  wake: () => void;
  /** How long to wait for a send in flight before answering anyway. */
  inFlightTimeoutMs?: number;
}

export async function applyOperatorAction(
  deps: ControlDeps,
  args: { enrollmentId: string; workspaceId?: string; action: OperatorAction; actor: string; reason?: string | null },
): Promise<ControlResult> {
  const now = deps.clock.now();
  let alsoExited: string[] = [];
  const result = await deps.db.transaction(async (tx): Promise<ControlResult> => {
    const current = await lockEnrollment(tx, args.enrollmentId);
    if (!current || (args.workspaceId && current.workspaceId !== args.workspaceId)) {
      return { ok: false, code: 'not_found', message: `Enrollment ${args.enrollmentId} does not exist.` };
    }
    const transition = operatorTransition(current.status, args.action);
    if (!transition.ok) return { ok: false, code: 'conflict', message: transition.message };
    if (args.action === 'retry') {
      const other = await liveTwin(tx, current);
      if (other) return { ok: false, code: 'conflict', message: `Cannot retry this enrollment: the lead is enrolled in this sequence again (enrollment ${other}); cancel that one first.` };
    }
    const skipTo = args.action === 'skip' ? await skipTarget(tx, current, args.actor, now) : null;
    const to = skipTo?.done ? (current.status === 'paused' ? 'paused' : 'completed') : transition.to;
    const [updated] = await tx.query<EnrollmentRecord>(
      `update enrollments set status = $2, status_reason = $3, updated_at = $4, ${ACTION_SQL[args.action]}
       where id = $1 returning ${ENROLLMENT_COLUMNS}`,
      [current.id, to, args.reason ?? null, now, ...(skipTo ? [skipTo.next] : [])],
    );
    await recordChange(tx, {
      enrollment: current,
      actor: args.actor,
      action: args.action,
      from: current.status,
      to,
      reason: args.reason,
      at: now,
    });
    // A conversion is the lead's, not one sequence's: see convertLeadIn.
    if (args.action === 'convert') alsoExited = await convertLeadIn(tx, { leadId: current.leadId, except: current.id, actor: args.actor, now });
    return { ok: true, enrollment: updated! };
  });
  if (!result.ok) return result;
  if (args.action === 'resume' || args.action === 'skip' || args.action === 'retry') deps.wake();
  if (args.action === 'pause' || args.action === 'cancel' || args.action === 'convert') {
    await waitForInFlight(deps, args.enrollmentId);
  }
  for (const id of alsoExited) await waitForInFlight(deps, id);
  return result;
}

/**
 * Marks a lead converted, in the caller's transaction: every other live enrollment of the lead
 * whose `exitOn` lists `converted` exits (reason `converted`), and the lead's status becomes
 * `converted`. Sequences that do not list it (onboarding after the sale, say) go on. Answers
 * the enrollments it exited.
 */
async function convertLeadIn(
  tx: Queryable,
  args: { leadId: string; except?: string; actor: string; now: Date },
): Promise<string[]> {
  const exited = await exitOnTrigger(tx, { leadId: args.leadId, trigger: 'converted', now: args.now, actor: args.actor, except: args.except });
  await advanceLeadStatus(tx, [args.leadId], 'converted', args.now);
  return exited;
}

export type ConvertLeadResult = { ok: true; exited: string[] } | { ok: false; code: 'not_found'; message: string };

/**
 * `POST /api/leads/{id}/convert`: the lead converted outside any one enrollment (a deal closed,
 * a lead that was never enrolled). Same rule as converting an enrollment, in one transaction;
 * answers once no exited enrollment has a send in flight.
 */
export async function convertLead(
  deps: ControlDeps,
  args: { leadId: string; workspaceId: string; actor: string },
): Promise<ConvertLeadResult> {
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx): Promise<ConvertLeadResult> => {
    const [lead] = await tx.query('select id from leads where id = $1 and workspace_id = $2', [args.leadId, args.workspaceId]);
    if (!lead) return { ok: false, code: 'not_found', message: `Lead ${args.leadId} does not exist.` };
    return { ok: true, exited: await convertLeadIn(tx, { leadId: args.leadId, actor: args.actor, now }) };
  });
  if (result.ok) for (const id of result.exited) await waitForInFlight(deps, id);
  return result;
}

/**
 * The per-action column changes. A row still leased by a worker keeps its lease (the worker
 * finishes its step and lets go); `wake_requested` makes it run again right after.
 */
const ACTION_SQL: Record<OperatorAction, string> = {
  pause: 'wake_requested = false',
  resume: `next_execution_at = case when lease_id is null then $4 else next_execution_at end,
           wake_requested = lease_id is not null`,
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

/** Another live enrollment of the same lead in the same sequence (one may be live at a time). */
async function liveTwin(tx: Queryable, current: EnrollmentRecord): Promise<string | undefined> {
  const [row] = await tx.query<{ id: string }>(
    `select id from enrollments where sequence_id = $1 and lead_id = $2 and id <> $3 and status in ('active', 'paused', 'waiting') limit 1`,
    [current.sequenceId, current.leadId, current.id],
  );
  return row?.id;
}

/** Records the skipped step and answers where the enrollment goes next (`done`: past the end). */
async function skipTarget(
  tx: Queryable,
  current: EnrollmentRecord,
  actor: string,
  now: Date,
): Promise<{ next: string | null; done: boolean }> {
  if (!current.currentStepId) return { next: null, done: true };
  const stored = await getDefinition(tx, current.sequenceId, current.sequenceVersion);
  const definition = parseStoredDefinition(`${current.sequenceId}:${current.sequenceVersion}`, stored);
  const step = definition.steps.find((s) => s.id === current.currentStepId);
  await recordFinishedExecution(
    tx,
    {
      workspaceId: current.workspaceId,
      enrollmentId: current.id,
      leadId: current.leadId,
      sequenceId: current.sequenceId,
      stepId: current.currentStepId,
      stepType: step?.type ?? 'unknown',
      channel: step && (step.type === 'email' || step.type === 'sms' || step.type === 'voice') ? step.type : null,
      visit: current.stepSeq,
    },
    { status: 'skipped', now, metadata: { reason: 'operator_skip', actor } },
  );
  const next = nextStepId(definition, current.currentStepId);
  return { next, done: next === null };
}

/** Waits (bounded) until no execution of this enrollment is between intent and outcome. */
async function waitForInFlight(deps: ControlDeps, enrollmentId: string): Promise<void> {
  await waitForSendsInFlight(deps.clock, deps.inFlightTimeoutMs ?? 30_000, async () => {
    const [row] = await deps.db.query<{ n: number }>(
      `select count(*)::int as n from sequence_executions where enrollment_id = $1 and status = 'started'`,
      [enrollmentId],
    );
    return row?.n ?? 0;
  });
}

/**
 * Records an operator's outcome ("connected", "meeting_booked", a task's "done"): a
 * `manual.outcome` event that unblocks a waiting task or branch at once.
 */
export async function recordOutcome(
  deps: ControlDeps,
  args: { enrollmentId: string; workspaceId?: string; outcome: string; channel?: string | null; note?: string | null; actor: string },
): Promise<ControlResult> {
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx): Promise<ControlResult> => {
    const current = await lockEnrollment(tx, args.enrollmentId);
    if (!current || (args.workspaceId && current.workspaceId !== args.workspaceId)) {
      return { ok: false, code: 'not_found', message: `Enrollment ${args.enrollmentId} does not exist.` };
    }
    const live: EnrollmentStatus[] = ['active', 'waiting', 'paused'];
    if (!live.includes(current.status)) {
      return { ok: false, code: 'conflict', message: `Cannot record an outcome on an enrollment that is ${current.status}.` };
    }
    await insertEvent(tx, {
      workspaceId: current.workspaceId,
      leadId: current.leadId,
      enrollmentId: current.id,
      executionId: null,
      stepId: current.currentStepId,
      type: 'manual.outcome',
      channel: args.channel ?? null,
      provider: 'operator',
      providerEventId: `manual:${randomUUID()}`,
      occurredAt: now,
      receivedAt: now,
      data: { outcome: args.outcome, note: args.note ?? null, actor: args.actor },
    });
    const [updated] = await tx.query<EnrollmentRecord>(
      `update enrollments set
         next_execution_at = case when status in ('active', 'waiting') and lease_id is null then $2 else next_execution_at end,
         wake_requested = lease_id is not null, updated_at = $2
       where id = $1 returning ${ENROLLMENT_COLUMNS}`,
      [current.id, now],
    );
    return { ok: true, enrollment: updated! };
  });
  if (result.ok) deps.wake();
  return result;
}
