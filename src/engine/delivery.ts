/**
 * One human-facing send, in the pieces the executor runs for a whole batch: prepare the content
 * (render, AI draft), then — after the intent is committed — call the adapter.
 */
import { renderStepContent, type StepContent } from '../core/content.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { TemplateError } from '../core/templates.ts';
import type { DeliveryResult, Envelope } from '../delivery/types.ts';
import { draftStep } from '../delivery/writer/draft.ts';
import type { RunContext } from './context.ts';
import type { EngineDeps } from './deps.ts';

export type Prepared =
  | { kind: 'ready'; content: StepContent; rendered: Record<string, unknown> }
  /** A template the lead's fields cannot fill: recorded as a failed step, never sent. */
  | { kind: 'template_error'; message: string };

/** The name the execution row records for the adapter that serves this step's channel. */
export function adapterNameFor(deps: EngineDeps, step: DeliveryStep): string {
  const { adapters } = deps;
  return step.type === 'email' ? adapters.email.adapter : step.type === 'sms' ? adapters.sms.adapter : adapters.voice.adapter;
}

/** The address or number a step goes out from (a rate limit's per-sender bucket); as `send` picks it. */
export function senderOf(deps: EngineDeps, step: DeliveryStep, context: RunContext): string {
  const sender = context.definition.sender;
  if (step.type === 'email') return sender?.email ?? deps.senders.emailFrom;
  return sender?.phone ?? (step.type === 'sms' ? deps.senders.smsFrom : deps.senders.voiceFrom);
}

/** Renders the step for the lead, then lets the AI writer draft it when the step asks. */
export async function prepareContent(deps: EngineDeps, context: RunContext, step: DeliveryStep): Promise<Prepared> {
  let content: StepContent;
  try {
    content = renderStepContent(step, { lead: context.lead, definition: context.definition });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { kind: 'template_error', message: error.message };
  }
  const drafted = await draftStep(deps.writer, step, content, context);
  return { kind: 'ready', content: drafted.content, rendered: { ...drafted.content, ...drafted.notes } };
}

/** Hands the message to the channel's adapter; called only once its intent is committed. */
export async function send(
  deps: EngineDeps,
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
