/**
 * One human-facing send, in the pieces the executor runs for a whole batch: prepare the content
 * (render, AI draft), then — after the intent is committed — call the adapter.
 */
import { renderStepContent, type StepContent } from '../core/content.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { TemplateError } from '../core/templates.ts';
import { mailboxSecretContext, type MailboxRecord } from '../db/mailboxes.ts';
import type { DeliveryResult, EmailMessage, Envelope } from '../delivery/types.ts';
import { draftStep } from '../delivery/writer/draft.ts';
import type { RunContext } from './context.ts';
import type { EngineDeps } from './deps.ts';

export type Prepared =
  | { kind: 'ready'; content: StepContent; rendered: Record<string, unknown> }
  /** A template the lead's fields cannot fill: recorded as a failed step, never sent. */
  | { kind: 'template_error'; message: string };

/** Whether this step goes out through one of the sequence's mailboxes (docs/MAILBOXES.md). */
export function sendsThroughMailbox(context: RunContext, step: DeliveryStep): boolean {
  return step.type === 'email' && (context.definition.mailboxes?.length ?? 0) > 0;
}

/** The name the execution row records for the adapter that serves this step's channel. */
export function adapterNameFor(deps: EngineDeps, step: DeliveryStep, context?: RunContext): string {
  const { adapters } = deps;
  if (context && sendsThroughMailbox(context, step)) return adapters.mailbox?.adapter ?? 'smtp';
  return step.type === 'email' ? adapters.email.adapter : step.type === 'sms' ? adapters.sms.adapter : adapters.voice.adapter;
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
  mailbox?: MailboxRecord,
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
      const message: EmailMessage = {
        ...envelope,
        to: context.lead.email!,
        from: { email: sender?.email ?? senders.emailFrom, name: sender?.name ?? senders.emailFromName },
        subject: content.subject ?? '',
        // The visible link next to the List-Unsubscribe header: not every client shows the header.
        text: unsubscribeUrl ? `${content.text}\n\n--\nUnsubscribe: ${unsubscribeUrl}` : content.text,
        unsubscribeUrl,
      };
      if (mailbox) return await sendThroughMailbox(deps, mailbox, message);
      return await adapters.email.send(message);
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

/** The rep's own mailbox sends, as its own From; its password is opened only for this call. */
async function sendThroughMailbox(deps: EngineDeps, mailbox: MailboxRecord, message: EmailMessage): Promise<DeliveryResult> {
  const sender = deps.adapters.mailbox;
  if (!sender) return { kind: 'failed', retryable: false, code: 'no_mailbox_sender', message: 'This process has no mailbox sender configured; not sent.' };
  let password: string;
  try {
    if (!deps.openSecret) throw new Error('TOUCHPOINT_SECRET_KEY is not set, so stored mailbox passwords cannot be opened.');
    password = deps.openSecret(mailbox.smtpPasswordSealed, mailboxSecretContext(mailbox.id, 'smtp'));
  } catch (error) {
    return { kind: 'failed', retryable: false, code: 'secret_unreadable', message: `The password of mailbox ${mailbox.name} could not be opened: ${(error as Error).message}` };
  }
  return await sender.send(
    { id: mailbox.id, version: mailbox.updatedAt.toISOString(), smtp: { ...mailbox.smtp, password } },
    { ...message, from: { email: mailbox.fromEmail, name: mailbox.fromName ?? undefined } },
  );
}
