/**
 * The send path of a round (docs/ENGINE.md, "One delivery step"): for the visits the round
 * decided to deliver, their variant and content, the send fence, admission through the gates
 * (admission.ts), every intent (intents.ts), then the adapter calls side by side and what each
 * answer means for its visit — a move on, a retry, a failure or an unknown send. Answers how each
 * visit ends; a visit that throws is handed back as a Failure and fails alone. Apart from the
 * round's control flow (executor.ts) so that the at-most-once rules of a send read in one place.
 */
import { retryDelayMs } from '../core/backoff.ts';
import { nextStepId } from '../core/decide.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { repliesInThread } from '../core/threads.ts';
import { sendDeadline, sendFence, shouldRetryDelivery } from '../core/transitions.ts';
import { applyVariant } from '../core/variants.ts';
import type { Claim } from '../db/enrollments.ts';
import { idempotencyKeyOf, type IntentRequest } from '../db/executions.ts';
import type { ExecutionWrite } from '../db/stepEnds.ts';
import { previousEmails } from '../db/threads.ts';
import type { DeliveryResult } from '../delivery/types.ts';
import { admit, type Carried, type KeptContent } from './admission.ts';
import { adapterNameFor, prepareContent, recipientOf, send, type ReadyContent } from './delivery.ts';
import type { EngineDeps } from './deps.ts';
import { afterFailure, afterUnknown, ending, identity, moveOn, type Ending, type Visit } from './endings.ts';
import type { Failure } from './failures.ts';
import { writeSendIntents, type SendIntent } from './intents.ts';
import { VariantPicker } from './variants.ts';

export class SendPath {
  private readonly variants: VariantPicker;

  constructor(private readonly deps: EngineDeps) {
    this.variants = new VariantPicker(deps);
  }

  /**
   * The sends of a round: content for each, every intent in one transaction (a pause, cancel or
   * take-over that committed first wins; one that comes after waits for the outcome), then the
   * adapter calls side by side. Answers how each visit ends.
   */
  async deliverAll(
    deliveries: Array<{ visit: Visit; step: DeliveryStep }>,
    failures: Failure[],
    carried?: Carried,
    kept?: ReadonlyMap<string, KeptContent>,
  ): Promise<Ending[]> {
    if (deliveries.length === 0) return [];
    const endings: Ending[] = [];
    const failed = (visit: Visit, error: unknown, execution?: ExecutionWrite) =>
      failures.push({ claim: visit.claim, enrollment: visit.context.enrollment, stepId: visit.context.enrollment.currentStepId, stepType: visit.step?.type, error, execution });
    // A send carried from an earlier round of this batch, still on the same visit, sends what was
    // rendered for it then (docs/ENGINE.md, "Limit-aware claims"); the others are rendered now.
    const keptFor = deliveries.map(({ visit, step }) => {
      const k = kept?.get(visit.context.enrollment.id);
      return k && k.key === idempotencyKeyOf(visit.context.enrollment.id, step.id, visit.context.enrollment.stepSeq) ? k : undefined;
    });
    const fresh = deliveries.filter((_, i) => !keptFor[i]);
    // A/B variants: each send's variant is fixed before its content is written (src/engine/variants.ts).
    const freshAssignments = await this.variants.assignAll(fresh.map(({ visit, step }) => ({ context: visit.context, step })));
    let f = 0;
    const assignments = keptFor.map((k) => (k ? (k.variant ? { variantId: k.variant } : undefined) : freshAssignments[f++]));
    const chosen = deliveries.map(({ visit, step }, i) => ({ visit, step: keptFor[i]?.step ?? applyVariant(step, assignments[i]?.variantId) }));
    // The previous email of each enrollment whose email replies in its thread, in one query.
    const threaded = chosen.filter(({ step }, i) => !keptFor[i] && repliesInThread(step)).map(({ visit }) => visit.context.enrollment.id);
    const parents = await previousEmails(this.deps.db, threaded);
    const prepared = await Promise.all(
      chosen.map(({ visit, step }, i) => {
        const k = keptFor[i];
        if (k) return { ok: true as const, content: { kind: 'ready' as const, content: k.content, rendered: k.rendered } };
        return prepareContent(this.deps, visit.context, step, parents.get(visit.context.enrollment.id)).then(
          (content) => ({ ok: true as const, content }),
          (error: unknown) => ({ ok: false as const, error }),
        );
      }),
    );
    let ready: Array<{ visit: Visit; step: DeliveryStep; request: IntentRequest; content: ReadyContent }> = [];
    deliveries.forEach(({ visit, step }, i) => {
      const outcome = prepared[i]!;
      if (!outcome.ok) return void failed(visit, outcome.error);
      const content = outcome.content;
      try {
        const adapter = adapterNameFor(this.deps, step, visit.context);
        if (content.kind === 'unsendable') {
          endings.push(
            afterFailure(visit, step, content.code, {
              kind: 'record',
              identity: identity(visit.context, step),
              status: 'failed',
              errorCode: content.code,
              errorMessage: content.message,
              adapter,
            }),
          );
          return;
        }
        // Too little lease left for the call to end safely before it: no intent, no send; the
        // visit runs again at once under a fresh claim (docs/ENGINE.md, "Crashes: at most once").
        const deadline = this.deadlineOf(visit.claim);
        if (this.tooLateToSend(deadline)) {
          endings.push(ending(visit, { kind: 'reschedule', at: this.deps.clock.now() }));
          return;
        }
        ready.push({
          visit,
          step,
          content: content.content,
          request: {
            identity: identity(visit.context, step),
            leaseId: visit.claim.leaseId,
            adapter,
            // Re-checked against the suppressions under the intent's lock (an opt-out may commit
            // after the context was read; docs/SIMULATION.md, Findings 7).
            recipient: recipientOf(step, visit.context),
            rendered: content.rendered,
            // Recorded so a worker that finds this intent interrupted knows when it can no longer be in flight.
            metadata: { sendDeadline: deadline.toISOString() },
            variant: assignments[i]?.variantId,
            now: visit.now,
          },
        });
      } catch (error) {
        failed(visit, error);
      }
    });
    ready = await admit(this.deps, ready, endings, carried);
    const intents = await writeSendIntents(this.deps, ready, failed, endings);
    const sent = await Promise.all(
      ready.map(async ({ visit, step, content, request }) => {
        const intent = intents.get(request.identity.enrollmentId);
        if (!intent) {
          if (!endings.some((e) => e.end.enrollmentId === request.identity.enrollmentId)) this.deps.observer?.delivery?.(step.type, request.adapter, 'aborted');
          return undefined;
        }
        // A mailbox send's Message-ID is the one its intent stored, in the mailbox's domain.
        const final = intent.messageId && content.threading ? { ...content, threading: { ...content.threading, messageId: intent.messageId } } : content;
        return this.sendOne(visit, step, final, request, intent).catch((failure: StepAfterIntentError) => {
          failed(visit, failure.cause, failure.execution);
          return undefined;
        });
      }),
    );
    for (const ended of sent) if (ended) endings.push(ended);
    return endings;
  }

  /**
   * The adapter call and what follows from its answer. Rejects with a StepAfterIntentError when
   * anything after the intent throws, carrying the adapter's answer to record regardless.
   */
  private async sendOne(
    visit: Visit,
    step: DeliveryStep,
    content: ReadyContent,
    request: IntentRequest,
    intent: SendIntent,
  ): Promise<Ending> {
    let answer: ExecutionWrite | undefined;
    try {
      return await this.sendAndDecide(visit, step, content, request, intent, (written) => (answer = written));
    } catch (error) {
      // Without an answer the intent stays `started`: the next attempt settles it as after a
      // crash (the provider's ledger, else unknown), never by sending blindly.
      throw new StepAfterIntentError(error, answer);
    }
  }

  private async sendAndDecide(
    visit: Visit,
    step: DeliveryStep,
    content: ReadyContent,
    request: IntentRequest,
    intent: SendIntent,
    answered: (execution: ExecutionWrite) => void,
  ): Promise<Ending> {
    const { clock, observer, logger } = this.deps;
    const { identity: who, adapter } = request;
    const envelope = {
      idempotencyKey: idempotencyKeyOf(who.enrollmentId, who.stepId, who.visit),
      executionId: intent.id,
      enrollmentId: who.enrollmentId,
      workspaceId: who.workspaceId,
      deadline: this.deadlineOf(visit.claim),
    };
    const started = clock.now().getTime();
    let result: DeliveryResult;
    try {
      // The intent's write may have taken the time the call needed (a stall, a slow store): then
      // the call is not made at all, and nothing went out for certain.
      result = this.tooLateToSend(envelope.deadline)
        ? { kind: 'failed', retryable: true, code: 'lease_expiring', message: 'Too little of the lease was left to send safely; not sent.' }
        : await send(this.deps, step, content, visit.context, envelope, intent.mailbox);
    } catch (error) {
      // Adapters answer with values; a throw is a bug or a transport surprise after which we
      // cannot know whether the provider took the message. Like a crash: unknown, never resent.
      observer?.delivery?.(step.type, adapter, 'failed');
      logger?.error({ err: error, executionId: intent.id }, `${step.type} adapter threw; outcome unknown, not resending`);
      const unknown: ExecutionWrite = { kind: 'unknown', id: intent.id, attempt: intent.attempts };
      answered(unknown);
      return afterUnknown(this.finishedAt(visit), step.id, unknown);
    }
    if (result.kind === 'failed' && result.mayHaveSent) {
      // No answer after the request may have reached the provider: as after a throw, the
      // outcome is unknown and the visit is never resent (a webhook or an operator settles it).
      observer?.delivery?.(step.type, adapter, 'failed');
      logger?.warn(
        { enrollmentId: who.enrollmentId, stepId: who.stepId, executionId: intent.id, code: result.code },
        `${step.type} delivery may have reached the provider (${result.message}); outcome unknown, not resending`,
      );
      const unknown: ExecutionWrite = { kind: 'unknown', id: intent.id, attempt: intent.attempts, errorCode: result.code, errorMessage: result.message };
      answered(unknown);
      return afterUnknown(this.finishedAt(visit), step.id, unknown);
    }
    const at = this.finishedAt(visit);
    const seconds = (at.now.getTime() - started) / 1000;
    if (result.kind === 'sent') {
      observer?.delivery?.(step.type, adapter, 'sent');
      observer?.stepExecuted?.(step.type, 'succeeded', seconds);
      const sent: ExecutionWrite = {
        kind: 'complete',
        id: intent.id,
        attempt: intent.attempts,
        status: 'succeeded',
        providerMessageId: result.providerMessageId,
        metadata: result.metadata,
      };
      answered(sent);
      return moveOn(at, nextStepId(visit.context.definition, step.id), sent);
    }
    const retry = shouldRetryDelivery(result.retryable, intent.attempts, visit.context.definition.maxAttempts);
    observer?.delivery?.(step.type, adapter, retry ? 'retry' : 'failed');
    observer?.stepExecuted?.(step.type, retry ? 'retry_scheduled' : 'failed', seconds);
    logger?.warn(
      { enrollmentId: who.enrollmentId, stepId: who.stepId, executionId: intent.id, code: result.code, retry },
      `${step.type} delivery failed: ${result.message}`,
    );
    const answer: ExecutionWrite = {
      kind: 'complete',
      id: intent.id,
      attempt: intent.attempts,
      status: retry ? 'retry_scheduled' : 'failed',
      errorCode: result.code,
      errorMessage: result.message,
      metadata: { lastAttempt: intent.attempts, retryable: result.retryable },
    };
    answered(answer);
    if (!retry) return afterFailure(at, step, result.code, answer);
    const delay = retryDelayMs(intent.attempts, { retryAfterMs: result.retryAfterMs, random: this.deps.random });
    return ending(at, { kind: 'reschedule', at: new Date(at.now.getTime() + delay), attempts: intent.attempts }, answer);
  }

  /** The deadline of every adapter call made under `claim` (sendFence in src/core/transitions.ts). */
  private deadlineOf(claim: Claim): Date {
    return sendDeadline(claim.leaseUntil, this.deps.leaseMs);
  }

  /** Whether a call starting now would have less than it needs before `deadline`. */
  private tooLateToSend(deadline: Date): boolean {
    return this.deps.clock.now().getTime() + sendFence(this.deps.leaseMs).minSendMs > deadline.getTime();
  }

  /** The visit as of now: a send's outcome and the move it causes are dated when it answered. */
  private finishedAt(visit: Visit): Visit {
    return { ...visit, now: this.deps.clock.now() };
  }
}

/** A throw after the intent was written, with what the adapter answered (if it was called). */
class StepAfterIntentError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly execution: ExecutionWrite | undefined,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
