/**
 * A visit that already has an execution row was interrupted (docs/ENGINE.md, "Crashes: at most
 * once for anything a human reads"): a worker stopped between the intent and the answer, or
 * after the answer but before the move. It is settled here, before the step is decided, and
 * never by sending blindly: the provider's ledger is asked when it can answer for certain,
 * else the send is `unknown` and the sequence's `onUnknownDelivery` decides what follows.
 */
import { nextStepId } from '../core/decide.ts';
import { isDeliveryStep, type Step } from '../core/definition.ts';
import { afterDeliveryFailure, afterLedgerLookup, interruptedDeadline, interruptedVisit } from '../core/transitions.ts';
import { completeExecution, idempotencyKeyOf } from '../db/executions.ts';
import type { EngineDeps } from './deps.ts';
import { afterUnknown, ending, follow, moveOn, type Ending, type Visit } from './endings.ts';

/**
 * A visit with an execution row already written: a crash between intent and outcome
 * (`started`: ask the provider's ledger, else mark `unknown` and follow `onUnknownDelivery`),
 * or an outcome recorded whose move was lost (advance now). A scheduled retry proceeds
 * (undefined: the visit is decided and sent as usual).
 */
export async function settleInterrupted(deps: EngineDeps, visit: Visit, step: Step): Promise<Ending | undefined> {
  if (!isDeliveryStep(step)) return undefined;
  const { context, now } = visit;
  // The current visit's execution row came with the context (same key: enrollment, step, visit).
  const existing = context.execution;
  const settle = interruptedVisit(existing?.status, context.definition.onError);
  if (!existing || settle === 'send') return undefined;
  const next = nextStepId(context.definition, step.id);
  if (settle === 'ask_provider') {
    // Ask the provider first, when it can answer for certain: a send it has is recorded, one
    // it never got is retried as if it had failed. Otherwise the outcome is unknown.
    const key = idempotencyKeyOf(context.enrollment.id, step.id, context.enrollment.stepSeq);
    const known = await deps.adapters.ledger?.lookup(key);
    const deadline = interruptedDeadline(existing.metadata, existing.startedAt, deps.leaseMs);
    const verdict = afterLedgerLookup(known?.kind, deadline, deps.clock.now());
    if (verdict === 'recheck') {
      // The interrupted call may still be in flight until its deadline: a "not sent" now could
      // be overtaken by its delivery. Ask again once the deadline has passed.
      deps.logger?.info(
        { enrollmentId: context.enrollment.id, stepId: step.id, executionId: existing.id, deadline: deadline.toISOString() },
        'interrupted send may still be in flight; re-checking after its deadline',
      );
      return ending(visit, { kind: 'reschedule', at: new Date(deadline.getTime() + 1) });
    }
    if (known?.kind === 'sent') {
      return moveOn(visit, next, {
        kind: 'complete',
        id: existing.id,
        attempt: existing.attempts,
        status: 'succeeded',
        providerMessageId: known.providerMessageId,
        metadata: { reconciledFrom: 'provider_ledger' },
      });
    }
    if (verdict === 'resend') {
      await completeExecution(deps.db, existing.id, {
        status: 'retry_scheduled',
        attempt: existing.attempts,
        now,
        errorCode: 'interrupted',
        errorMessage: 'The worker stopped before the provider got the message; sending again.',
      });
      return undefined;
    }
  }
  if (settle === 'ask_provider' || settle === 'unknown') {
    deps.observer?.stepExecuted?.(step.type, 'unknown', 0);
    deps.logger?.warn(
      { enrollmentId: context.enrollment.id, stepId: step.id, executionId: existing.id },
      'send outcome unknown after an interrupted run; not resending',
    );
    return afterUnknown(visit, step.id, { kind: 'unknown', id: existing.id, attempt: existing.attempts });
  }
  if (settle === 'failed_for_good') return follow(visit, next, afterDeliveryFailure('exit', existing.errorCode));
  return moveOn(visit, next);
}
