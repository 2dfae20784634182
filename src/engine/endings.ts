/**
 * How a visit ends: the shared types of a round (Visit, Ending, Plan) and the constructors of
 * its Endings. Pure: each builds the writes to commit from the visit and the policy's word
 * (src/core/transitions.ts), reading no store, clock or provider, so the round
 * (executor.ts), the send path (sendPath.ts, admission.ts) and the settling of interrupted
 * visits (interrupted.ts) all end a visit the same way.
 */
import { firstDueAt, nextStepId } from '../core/decide.ts';
import { isDeliveryStep, type DeliveryStep, type Step } from '../core/definition.ts';
import { afterDeliveryFailure, afterUnknownDelivery, type Consequence } from '../core/transitions.ts';
import type { Claim } from '../db/enrollments.ts';
import type { ExecutionIdentity } from '../db/executions.ts';
import type { ExecutionWrite, StepEnd, StepTransition } from '../db/stepEnds.ts';
import type { RunContext } from './context.ts';

/** One enrollment's current step in a round. */
export interface Visit {
  claim: Claim;
  context: RunContext;
  now: Date;
  zone: string;
  step: Step | undefined;
  /** The claim's last step this time: whatever comes next waits for a new claim. */
  last: boolean;
  /** The lease a claim kept for its next step is renewed for (EngineDeps.leaseMs). */
  leaseMs: number;
}

/** How a visit ends: the writes to commit, and whether the enrollment's next step runs at once. */
export interface Ending {
  end: StepEnd;
  claim: Claim;
  runNow: boolean;
  /** A deferral whose reason goes on the timeline (the frequency cap). */
  note?: { workspaceId: string; leadId: string; reason: string };
}

/** What the round does with a visit: end it now, or leave its send to the send path. */
export type Plan = { kind: 'end'; ending: Ending } | { kind: 'deliver'; step: DeliveryStep };

/** A send we cannot know went out is never resent: go on, or hold for an operator. */
export function afterUnknown(visit: Visit, stepId: string, execution: ExecutionWrite): Ending {
  const { definition } = visit.context;
  return follow(visit, nextStepId(definition, stepId), afterUnknownDelivery(definition.onUnknownDelivery), execution);
}

/** A send that failed for good: the sequence's `onError` says exit, or go on. */
export function afterFailure(visit: Visit, step: DeliveryStep, code: string, execution: ExecutionWrite): Ending {
  const { definition } = visit.context;
  return follow(visit, nextStepId(definition, step.id), afterDeliveryFailure(definition.onError, code), execution);
}

/** What the policy (src/core/transitions.ts) said follows the step: on to `next`, or an end. */
export function follow(visit: Visit, next: string | null, consequence: Consequence, execution?: ExecutionWrite): Ending {
  if (consequence.kind === 'move_on') return moveOn(visit, next, execution);
  return ending(visit, consequence, execution);
}

/** To `next` (null: the sequence is done); keeps the lease when the next step is due at once. */
export function moveOn(visit: Visit, next: string | null, execution?: ExecutionWrite): Ending {
  const { now, zone, context, last } = visit;
  if (next === null) return ending(visit, { kind: 'finish', status: 'completed', action: 'complete' }, execution);
  const dueAt = firstDueAt(context.definition, next, now, zone);
  const runNow = !last && dueAt.getTime() <= now.getTime();
  const keepLeaseUntil = runNow ? new Date(now.getTime() + visit.leaseMs) : undefined;
  const transition: StepTransition = { kind: 'move', next, dueAt, keepLeaseUntil };
  const ended = ending(visit, transition, execution);
  // The next round's sends are fenced by the renewed lease, not the one it was claimed with.
  return { ...ended, claim: keepLeaseUntil ? { ...ended.claim, leaseUntil: keepLeaseUntil } : ended.claim, runNow };
}

export function ending(visit: Visit, transition: StepTransition, execution?: ExecutionWrite): Ending {
  const end: StepEnd = { enrollmentId: visit.claim.enrollmentId, leaseId: visit.claim.leaseId, now: visit.now, transition, execution };
  return { end, claim: visit.claim, runNow: false };
}

export function end(visit: Visit, transition: StepTransition, execution?: ExecutionWrite): Plan {
  return { kind: 'end', ending: ending(visit, transition, execution) };
}

/** The execution row a visit of `step` writes: its workspace, lead, sequence and visit number. */
export function identity(context: RunContext, step: Step): ExecutionIdentity {
  const { enrollment } = context;
  return {
    workspaceId: enrollment.workspaceId,
    enrollmentId: enrollment.id,
    leadId: enrollment.leadId,
    sequenceId: enrollment.sequenceId,
    stepId: step.id,
    stepType: step.type,
    channel: isDeliveryStep(step) ? step.type : null,
    visit: enrollment.stepSeq,
  };
}
