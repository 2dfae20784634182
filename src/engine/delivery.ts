/**
 * One human-facing send: render, write the intent (its own commit, after re-checking the
 * enrollment under its row lock), call the adapter, record the answer.
 */
import { renderStepContent, type StepContent } from '../core/content.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { TemplateError } from '../core/templates.ts';
import type { Queryable } from '../db/db.ts';
import { lockEnrollment, type EnrollmentRecord } from '../db/enrollments.ts';
import { completeExecution, markUnknown, recordFinishedExecution, writeIntent, type ExecutionIdentity } from '../db/executions.ts';
import type { DeliveryResult, Envelope } from '../delivery/types.ts';
import { draftStep } from '../delivery/writer/draft.ts';
import type { RunContext } from './context.ts';
import type { EngineDeps } from './deps.ts';

export type DeliveryDeps = EngineDeps;

export type DeliveryOutcome =
  | { kind: 'aborted' }
  /** `record` writes the provider's answer; the caller runs it in the transaction that moves on. */
  | { kind: 'sent'; record: (tx: Queryable) => Promise<void> }
  | { kind: 'retry'; attempts: number; retryAfterMs?: number }
  | { kind: 'failed'; code: string }
  | { kind: 'unknown' };

export async function deliver(
  deps: DeliveryDeps,
  context: RunContext,
  step: DeliveryStep,
  identity: ExecutionIdentity,
  fenced: { enrollment: EnrollmentRecord; leaseId: string; now: Date },
): Promise<DeliveryOutcome> {
  const { db, clock, adapters, observer } = deps;
  const { now } = fenced;
  const adapter = step.type === 'email' ? adapters.email.adapter : step.type === 'sms' ? adapters.sms.adapter : adapters.voice.adapter;

  let content: StepContent;
  try {
    content = renderStepContent(step, { lead: context.lead, definition: context.definition });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    await db.transaction((tx) =>
      recordFinishedExecution(tx, identity, { status: 'failed', now, errorCode: 'template_error', errorMessage: error.message, adapter }),
    );
    return { kind: 'failed', code: 'template_error' };
  }
  const drafted = await draftStep(deps.writer, step, content, context);
  content = drafted.content;

  // The intent: only while the enrollment is still live and still ours. A pause or cancel that
  // committed first wins; one that comes after waits for this send to be recorded.
  const intent = await db.transaction(async (tx) => {
    const row = await lockEnrollment(tx, context.enrollment.id);
    if (!row || row.leaseId !== fenced.leaseId || (row.status !== 'active' && row.status !== 'waiting')) return undefined;
    return writeIntent(tx, identity, { adapter, rendered: { ...content, ...drafted.notes }, now });
  });
  if (!intent) {
    observer?.delivery?.(step.type, adapter, 'aborted');
    return { kind: 'aborted' };
  }

  const envelope: Envelope = {
    idempotencyKey: `${identity.enrollmentId}:${identity.stepId}:${identity.visit}`,
    executionId: intent.id,
    enrollmentId: identity.enrollmentId,
    workspaceId: identity.workspaceId,
  };
  const started = clock.now().getTime();
  let result: DeliveryResult;
  try {
    result = await send(deps, step, content, context, envelope);
  } catch (error) {
    // Adapters answer with values; a throw is a bug or a transport surprise after which we
    // cannot know whether the provider took the message. Like a crash: unknown, never resent.
    await db.transaction((tx) => markUnknown(tx, intent.id, clock.now()));
    observer?.delivery?.(step.type, adapter, 'failed');
    deps.logger?.error({ err: error, executionId: intent.id }, `${step.type} adapter threw; outcome unknown, not resending`);
    return { kind: 'unknown' };
  }
  const seconds = (clock.now().getTime() - started) / 1000;
  const finishedAt = clock.now();

  if (result.kind === 'sent') {
    observer?.delivery?.(step.type, adapter, 'sent');
    observer?.stepExecuted?.(step.type, 'succeeded', seconds);
    return {
      kind: 'sent',
      record: (tx) =>
        completeExecution(tx, intent.id, {
          status: 'succeeded',
          now: finishedAt,
          providerMessageId: result.providerMessageId,
          metadata: result.metadata,
        }),
    };
  }
  const retry = result.retryable && intent.attempts < context.definition.maxAttempts;
  await db.transaction((tx) =>
    completeExecution(tx, intent.id, {
      status: retry ? 'retry_scheduled' : 'failed',
      now: finishedAt,
      errorCode: result.code,
      errorMessage: result.message,
      metadata: { lastAttempt: intent.attempts, retryable: result.retryable },
    }),
  );
  observer?.delivery?.(step.type, adapter, retry ? 'retry' : 'failed');
  observer?.stepExecuted?.(step.type, retry ? 'retry_scheduled' : 'failed', seconds);
  deps.logger?.warn(
    { enrollmentId: identity.enrollmentId, stepId: identity.stepId, executionId: intent.id, code: result.code, retry },
    `${step.type} delivery failed: ${result.message}`,
  );
  return retry ? { kind: 'retry', attempts: intent.attempts, retryAfterMs: result.retryAfterMs } : { kind: 'failed', code: result.code };
}

async function send(
  deps: DeliveryDeps,
  step: DeliveryStep,
  content: StepContent,
  context: RunContext,
  envelope: Envelope,
): Promise<DeliveryResult> {
  const { adapters, senders } = deps;
  const sender = context.definition.sender;
  switch (step.type) {
      case 'email': {
        const unsubscribeUrl = deps.unsubscribeUrl?.({
          workspaceId: envelope.workspaceId,
          leadId: context.lead.id,
          executionId: envelope.executionId,
        });
        return await adapters.email.send({
          ...envelope,
          to: context.lead.email!,
          from: { email: sender?.email ?? senders.emailFrom, name: sender?.name ?? senders.emailFromName },
          subject: content.subject ?? '',
          // The visible link next to the List-Unsubscribe header: not every client shows the header.
          text: unsubscribeUrl ? `${content.text}\n\n--\nUnsubscribe: ${unsubscribeUrl}` : content.text,
          unsubscribeUrl,
        });
      }
      case 'sms':
        return await adapters.sms.send({ ...envelope, to: context.lead.phone!, from: sender?.phone ?? senders.smsFrom, text: content.text });
      case 'voice':
        return await adapters.voice.dial({
          ...envelope,
          to: context.lead.phone!,
          from: sender?.phone ?? senders.voiceFrom,
          script: content.text,
          voicemail: content.voicemail,
        });
    }
}
