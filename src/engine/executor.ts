/**
 * Runs claimed enrollments, one step at a time (DESIGN.md, "Life of one step"): re-check, write
 * the intent, call the adapter, record the outcome and advance — the intent in its own commit,
 * the outcome and the move in one transaction, every write fenced by the lease.
 */
import { retryDelayMs } from '../core/backoff.ts';
import { decideStep, findStep, firstDueAt, nextStepId, type Decision } from '../core/decide.ts';
import type { DeliveryStep, Step } from '../core/definition.ts';
import { resolveZone } from '../core/time.ts';
import type { Db } from '../db/db.ts';
import {
  completeExecution,
  idempotencyKeyOf,
  markUnknown,
  recordFinishedExecution,
  type ExecutionIdentity,
} from '../db/executions.ts';
import type { Claim } from '../db/enrollments.ts';
import { loadRunContext, type RunContext } from './context.ts';
import { deliver, type DeliveryDeps } from './delivery.ts';
import { finish, moveToStep, pauseForOperator, reschedule } from './transitions.ts';
import type { EngineDeps } from './deps.ts';

/** Steps one claim may run back to back before it lets others have a turn. */
const MAX_STEPS_PER_CLAIM = 16;

export type StepOutcome = 'continue' | 'released';

export class Executor {
  constructor(private readonly deps: EngineDeps) {}

  /** Runs the claimed enrollment until it must wait, finishes, or has run its share of steps. */
  async run(claim: Claim): Promise<void> {
    const { clock, observer } = this.deps;
    observer?.schedulerLag?.(Math.max(0, clock.now().getTime() - claim.dueAt.getTime()) / 1000);
    for (let steps = 0; steps < MAX_STEPS_PER_CLAIM; steps++) {
      const context = await loadRunContext(this.deps.db, claim.enrollmentId);
      if (!context || context.enrollment.leaseId !== claim.leaseId) return; // taken over
      const { status } = context.enrollment;
      if (status !== 'active' && status !== 'waiting') return;
      const last = steps === MAX_STEPS_PER_CLAIM - 1;
      const outcome = await this.runStep(context, claim.leaseId, last);
      if (outcome === 'released') return;
    }
  }

  private async runStep(context: RunContext, leaseId: string, last: boolean): Promise<StepOutcome> {
    const { clock } = this.deps;
    const { enrollment, definition } = context;
    const now = clock.now();
    const fenced = { enrollment, leaseId, now };
    const zone = resolveZone(context.lead.timezone, definition.schedule, context.workspaceZone);
    const step = enrollment.currentStepId ? findStep(definition, enrollment.currentStepId) : undefined;

    // A visit that already has an execution row was interrupted: settle it, never resend.
    if (step) {
      const settled = await this.settleInterrupted(context, step, fenced, zone, last);
      if (settled) return settled;
    }

    // Facts and suppressions came with the context (one round trip, engine_run_context).
    const { facts, suppressed } = context;
    const decision = decideStep({
      definition,
      stepId: enrollment.currentStepId,
      stepEnteredAt: enrollment.stepEnteredAt,
      enrolledAt: enrollment.enrolledAt,
      now,
      lead: context.lead,
      zone,
      facts,
      suppressed,
    });
    return this.apply(context, decision, step, fenced, zone, last);
  }

  private async apply(
    context: RunContext,
    decision: Decision,
    step: Step | undefined,
    fenced: { enrollment: RunContext['enrollment']; leaseId: string; now: Date },
    zone: string,
    last: boolean,
  ): Promise<StepOutcome> {
    const { db } = this.deps;
    const { now } = fenced;
    switch (decision.kind) {
      case 'exit':
        await db.transaction((tx) => finish(tx, fenced, { status: 'exited', action: 'exit', reason: decision.reason }));
        return 'released';
      case 'complete':
        await db.transaction(async (tx) => {
          if (step) await recordFinishedExecution(tx, this.identity(context, step), { status: 'succeeded', now });
          await finish(tx, fenced, { status: 'completed', action: 'complete' });
        });
        return 'released';
      case 'defer':
      case 'wait':
        await db.transaction((tx) => reschedule(tx, fenced, { at: decision.until }));
        return 'released';
      case 'await':
        await db.transaction((tx) => reschedule(tx, fenced, { at: decision.until, waitingFor: decision.waitingFor }));
        return 'released';
      case 'advance':
        return this.advance(context, step!, fenced, zone, last, decision.next, { status: 'succeeded', metadata: decision.detail });
      case 'skip':
        return this.advance(context, step!, fenced, zone, last, decision.next, {
          status: 'skipped',
          metadata: { reason: decision.reason },
        });
      case 'deliver':
        return this.deliverStep(context, decision.step, fenced, zone, last);
      default: {
        const unreachable: never = decision;
        throw new Error(`Unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private async deliverStep(
    context: RunContext,
    step: DeliveryStep,
    fenced: { enrollment: RunContext['enrollment']; leaseId: string; now: Date },
    zone: string,
    last: boolean,
  ): Promise<StepOutcome> {
    const result = await deliver(this.deliveryDeps(), context, step, this.identity(context, step), fenced);
    const { db } = this.deps;
    switch (result.kind) {
      case 'aborted':
        return 'released';
      case 'unknown':
        return this.afterUnknown(context, step.id, fenced, zone, last);
      case 'sent':
        // The provider's answer and the move to the next step commit together (DESIGN, step 2).
        return this.moveOn(context, step.id, fenced, zone, last, undefined, result.record);
      case 'retry':
        await db.transaction((tx) =>
          reschedule(tx, fenced, {
            at: new Date(fenced.now.getTime() + retryDelayMs(result.attempts, { retryAfterMs: result.retryAfterMs, random: this.deps.random })),
            attempts: result.attempts,
          }),
        );
        return 'released';
      case 'failed':
        if (context.definition.onError === 'exit') {
          await db.transaction((tx) => finish(tx, fenced, { status: 'failed', action: 'fail', reason: `delivery_failed: ${result.code}` }));
          return 'released';
        }
        return this.moveOn(context, step.id, fenced, zone, last);
    }
  }

  /**
   * A visit with an execution row already written: a crash between intent and outcome
   * (`started`: mark `unknown`, follow `onUnknownDelivery`), or an outcome recorded whose move
   * was lost (advance now). A scheduled retry proceeds normally.
   */
  private async settleInterrupted(
    context: RunContext,
    step: Step,
    fenced: { enrollment: RunContext['enrollment']; leaseId: string; now: Date },
    zone: string,
    last: boolean,
  ): Promise<StepOutcome | undefined> {
    if (step.type !== 'email' && step.type !== 'sms' && step.type !== 'voice') return undefined;
    const key = idempotencyKeyOf(context.enrollment.id, step.id, context.enrollment.stepSeq);
    // The current visit's execution row came with the context (same key: enrollment, step, visit).
    const existing = context.execution;
    if (!existing || existing.status === 'retry_scheduled') return undefined;
    const { db, logger } = this.deps;
    if (existing.status === 'started') {
      // Ask the provider first, when it can answer for certain: a send it has is recorded, one
      // it never got is retried as if it had failed. Otherwise the outcome is unknown.
      const known = await this.deps.adapters.ledger?.lookup(key);
      if (known?.kind === 'sent') {
        await db.transaction((tx) =>
          completeExecution(tx, existing.id, { status: 'succeeded', now: fenced.now, providerMessageId: known.providerMessageId, metadata: { reconciledFrom: 'provider_ledger' } }),
        );
        return this.moveOn(context, step.id, fenced, zone, last);
      }
      if (known?.kind === 'not_sent') {
        await db.transaction((tx) =>
          completeExecution(tx, existing.id, { status: 'retry_scheduled', now: fenced.now, errorCode: 'interrupted', errorMessage: 'The worker stopped before the provider got the message; sending again.' }),
        );
        return undefined;
      }
    }
    if (existing.status === 'started' || existing.status === 'unknown') {
      await db.transaction((tx) => markUnknown(tx, existing.id, fenced.now));
      this.deps.observer?.stepExecuted?.(step.type, 'unknown', 0);
      logger?.warn({ enrollmentId: context.enrollment.id, stepId: step.id, executionId: existing.id },
        'send outcome unknown after an interrupted run; not resending');
      return this.afterUnknown(context, step.id, fenced, zone, last);
    }
    if (existing.status === 'failed' && context.definition.onError === 'exit') {
      await db.transaction((tx) => finish(tx, fenced, { status: 'failed', action: 'fail', reason: `delivery_failed: ${existing.errorCode}` }));
      return 'released';
    }
    return this.moveOn(context, step.id, fenced, zone, last);
  }

  /** A send we cannot know went out is never resent: go on, or hold for an operator. */
  private async afterUnknown(
    context: RunContext,
    stepId: string,
    fenced: { enrollment: RunContext['enrollment']; leaseId: string; now: Date },
    zone: string,
    last: boolean,
  ): Promise<StepOutcome> {
    if (context.definition.onUnknownDelivery === 'pause') {
      await this.deps.db.transaction((tx) => pauseForOperator(tx, fenced, 'unknown_delivery'));
      return 'released';
    }
    return this.moveOn(context, stepId, fenced, zone, last);
  }

  private async advance(
    context: RunContext,
    step: Step,
    fenced: { enrollment: RunContext['enrollment']; leaseId: string; now: Date },
    zone: string,
    last: boolean,
    next: string | null,
    execution: { status: 'succeeded' | 'skipped'; metadata: Record<string, unknown> },
  ): Promise<StepOutcome> {
    this.deps.observer?.stepExecuted?.(step.type, execution.status, 0);
    return this.moveOn(context, step.id, fenced, zone, last, next, (tx) =>
      recordFinishedExecution(tx, this.identity(context, step), { ...execution, now: fenced.now }),
    );
  }

  /** Records (optionally) and moves to the next step; keeps the lease when it is due at once. */
  private async moveOn(
    context: RunContext,
    stepId: string,
    fenced: { enrollment: RunContext['enrollment']; leaseId: string; now: Date },
    zone: string,
    last: boolean,
    next: string | null = nextStepId(context.definition, stepId),
    record?: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<void>,
  ): Promise<StepOutcome> {
    const dueAt = firstDueAt(context.definition, next, fenced.now, zone);
    const runNow = next !== null && !last && dueAt.getTime() <= fenced.now.getTime();
    const moved = await this.deps.db.transaction(async (tx) => {
      await record?.(tx);
      return moveToStep(tx, fenced, {
        next,
        dueAt,
        keepLeaseUntil: runNow ? new Date(fenced.now.getTime() + this.deps.leaseMs) : undefined,
      });
    });
    return runNow && moved?.status === 'active' ? 'continue' : 'released';
  }

  private identity(context: RunContext, step: Step): ExecutionIdentity {
    const { enrollment } = context;
    return {
      workspaceId: enrollment.workspaceId,
      enrollmentId: enrollment.id,
      leadId: enrollment.leadId,
      sequenceId: enrollment.sequenceId,
      stepId: step.id,
      stepType: step.type,
      channel: step.type === 'email' || step.type === 'sms' || step.type === 'voice' ? step.type : null,
      visit: enrollment.stepSeq,
    };
  }

  private deliveryDeps(): DeliveryDeps {
    return this.deps;
  }
}
