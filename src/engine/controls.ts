/**
 * Operator controls: pause, resume, cancel, skip, convert, and recording an outcome. Each
 * serialises with the executor on the enrollment's row lock. Once a control answers, it is
 * final: no send starts after it (the executor re-checks under the same lock before its
 * intent), and a send already handed to the provider has been recorded (we wait for it).
 */
import { randomUUID } from 'node:crypto';
import { isDeliveryStep } from '../core/definition.ts';
import { isLive, operatorTransition, undoCancelTransition, type OperatorAction } from '../core/transitions.ts';
import type { Db } from '../db/db.ts';
import { nextStepId } from '../core/decide.ts';
import type { Queryable } from '../db/db.ts';
import { applyOperatorChange, lastCancelOf, liveTwinOf, restoreCancelled, wakeEnrollments } from '../db/enrollmentChanges.ts';
import { lockEnrollment, type EnrollmentRecord } from '../db/enrollments.ts';
import { insertEvent } from '../db/events.ts';
import { advanceLeadStatus, getLead } from '../db/leads.ts';
import { countSendsInFlightOf, executionStatusOfVisit, recordFinishedExecution } from '../db/executions.ts';
import { getDefinition } from '../db/sequences.ts';
import type { Clock } from './clock.ts';
import { parseStoredDefinition } from '../core/storedDefinitions.ts';
import { waitForSendsInFlight } from './inFlight.ts';
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
  /** How the wait for a send in flight pauses between looks (tests may step it). */
  sleep?: (ms: number) => Promise<void>;
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
      const other = await liveTwinOf(tx, current);
      if (other) return { ok: false, code: 'conflict', message: `Cannot retry this enrollment: the lead is enrolled in this sequence again (enrollment ${other}); cancel that one first.` };
    }
    if (args.action === 'skip') {
      const inFlight = await skipInFlight(tx, current);
      if (inFlight) return { ok: false, code: 'conflict', message: inFlight };
    }
    const skipTo = args.action === 'skip' ? await skipTarget(tx, current, args.actor, now) : null;
    const to = skipTo?.done ? (current.status === 'paused' ? 'paused' : 'completed') : transition.to;
    const updated = await applyOperatorChange(tx, { current, action: args.action, to, actor: args.actor, reason: args.reason, now, skipTo: skipTo?.next });
    // A conversion is the lead's, not one sequence's: see convertLeadIn.
    if (args.action === 'convert') alsoExited = await convertLeadIn(tx, { leadId: current.leadId, except: current.id, actor: args.actor, now });
    return { ok: true, enrollment: updated };
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
 * Takes back a cancel made less than `CANCEL_UNDO_WINDOW_MS` ago (the dashboard's "Undo"): the
 * enrollment returns to where it was, unless the lead was enrolled in the sequence again since.
 */
export async function undoCancel(deps: ControlDeps, args: { enrollmentId: string; workspaceId?: string; actor: string }): Promise<ControlResult> {
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx): Promise<ControlResult> => {
    const current = await lockEnrollment(tx, args.enrollmentId);
    if (!current || (args.workspaceId && current.workspaceId !== args.workspaceId)) {
      return { ok: false, code: 'not_found', message: `Enrollment ${args.enrollmentId} does not exist.` };
    }
    const transition = undoCancelTransition(current.status, await lastCancelOf(tx, current.id), now);
    if (!transition.ok) return { ok: false, code: 'conflict', message: transition.message };
    const other = await liveTwinOf(tx, current);
    if (other) return { ok: false, code: 'conflict', message: `Cannot undo the cancel: the lead is enrolled in this sequence again (enrollment ${other}).` };
    return { ok: true, enrollment: await restoreCancelled(tx, { current, to: transition.to, actor: args.actor, now }) };
  });
  if (result.ok) deps.wake();
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
    const lead = await getLead(tx, args.workspaceId, args.leadId);
    if (!lead) return { ok: false, code: 'not_found', message: `Lead ${args.leadId} does not exist.` };
    return { ok: true, exited: await convertLeadIn(tx, { leadId: args.leadId, actor: args.actor, now }) };
  });
  if (result.ok) for (const id of result.exited) await waitForInFlight(deps, id);
  return result;
}

/**
 * Why the current step cannot be skipped yet, if its send is in flight: the visit's execution
 * is `started` (an intent without an answer). Skipping would record nothing (the row exists)
 * and move the enrollment on, and a worker settles an interrupted send only when it runs that
 * visit again — so a row whose worker died would stay `started` for ever, even when the message
 * went out (docs/SIMULATION.md, finding 5). Once the send is settled (answered, or found
 * interrupted and resolved by the next claim, within a lease), the skip goes through.
 */
async function skipInFlight(tx: Queryable, current: EnrollmentRecord): Promise<string | undefined> {
  if (!current.currentStepId) return undefined;
  const status = await executionStatusOfVisit(tx, current.id, current.currentStepId, current.stepSeq);
  if (status !== 'started') return undefined;
  const after = current.status === 'paused' ? 'resume the enrollment so a worker settles it, then skip' : 'try again in a minute';
  return `Cannot skip step ${current.currentStepId} yet: its message is being sent and the provider's answer is not recorded. Wait until it is settled (${after}).`;
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
  const definition = parseStoredDefinition(current.sequenceId, current.sequenceVersion, stored);
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
      channel: step && isDeliveryStep(step) ? step.type : null,
      visit: current.stepSeq,
    },
    { status: 'skipped', now, metadata: { reason: 'operator_skip', actor } },
  );
  const next = nextStepId(definition, current.currentStepId);
  return { next, done: next === null };
}

/** Waits (bounded) until no execution of this enrollment is between intent and outcome. */
async function waitForInFlight(deps: ControlDeps, enrollmentId: string): Promise<void> {
  await waitForSendsInFlight(deps.clock, deps.inFlightTimeoutMs ?? 30_000, () => countSendsInFlightOf(deps.db, enrollmentId));
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
    if (!isLive(current.status)) {
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
    const [updated] = await wakeEnrollments(tx, [current.id], now, { stamp: true });
    return { ok: true, enrollment: updated! };
  });
  if (result.ok) deps.wake();
  return result;
}
