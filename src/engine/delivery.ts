/**
 * One human-facing send, in the pieces the executor runs for a whole batch: prepare the content
 * (render, AI draft), then — after the intent is committed — call the adapter.
 */
import { randomUUID } from 'node:crypto';
import { renderStepContent, type StepContent } from '../core/content.ts';
import type { DeliveryStep } from '../core/definition.ts';
import { isHttpLink, rewriteLinks, textToHtml, withOpenPixel } from '../core/emailBody.ts';
import { TemplateError } from '../core/templates.ts';
import { newMessageId, repliesInThread, replySubject, replyThreading, type ThreadParent, type Threading } from '../core/threads.ts';
import { mailboxSecretContext, type MailboxRecord } from '../db/mailboxes.ts';
import type { DeliveryResult, EmailMessage, Envelope } from '../delivery/types.ts';
import { draftStep } from '../delivery/writer/draft.ts';
import type { RunContext } from './context.ts';
import type { EngineDeps } from './deps.ts';

/** What a step says to its lead, and for an email its place in the thread. */
export interface ReadyContent extends StepContent {
  threading?: Threading;
}

export type Prepared =
  | { kind: 'ready'; content: ReadyContent; rendered: Record<string, unknown> }
  /**
   * Content that can never be sent, recorded as a failed step: a template the lead's fields
   * cannot fill (`template_error`), or a reply in a thread the enrollment never started
   * (`no_thread`: its earlier email failed or was skipped).
   */
  | { kind: 'unsendable'; code: 'template_error' | 'no_thread'; message: string };

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

/** The address or number a step goes out from (a rate limit's per-sender bucket); as `send` picks it. */
export function senderOf(deps: EngineDeps, step: DeliveryStep, context: RunContext): string {
  const sender = context.definition.sender;
  if (step.type === 'email') return sender?.email ?? deps.senders.emailFrom;
  return sender?.phone ?? (step.type === 'sms' ? deps.senders.smsFrom : deps.senders.voiceFrom);
}

/** The address an email of this context goes out from. */
function fromOf(deps: EngineDeps, context: RunContext): { email: string; name?: string } {
  const sender = context.definition.sender;
  return { email: sender?.email ?? deps.senders.emailFrom, name: sender?.name ?? deps.senders.emailFromName };
}

/**
 * Renders the step for the lead, then lets the AI writer draft it when the step asks. An email
 * gets its Message-ID here, before its intent is written (so the row knows it even if the send
 * is interrupted), and a subject-less one its `Re:` subject and threading headers from `parent`,
 * the enrollment's previous email (src/db/threads.ts).
 */
export async function prepareContent(
  deps: EngineDeps,
  context: RunContext,
  step: DeliveryStep,
  parent?: ThreadParent,
): Promise<Prepared> {
  let content: ReadyContent;
  try {
    content = renderStepContent(step, { lead: context.lead, definition: context.definition });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { kind: 'unsendable', code: 'template_error', message: error.message };
  }
  const threaded = repliesInThread(step);
  if (step.type === 'email') {
    // A retry keeps the id its first attempt had: a receiving server that saw it drops a duplicate.
    const earlier = context.execution?.rendered?.messageId;
    const messageId = typeof earlier === 'string' && earlier !== '' ? earlier : newMessageId(randomUUID(), fromOf(deps, context).email);
    if (threaded) {
      if (!parent) {
        return {
          kind: 'unsendable',
          code: 'no_thread',
          message: `Step "${step.id}" has no subject, so it replies in the thread of the enrollment's previous email, but this enrollment has sent none (an earlier email failed or was skipped); nothing was sent.`,
        };
      }
      content = { ...content, subject: replySubject(parent.subject), threading: replyThreading(messageId, parent) };
    } else content = { ...content, threading: { messageId, references: [] } };
  }
  const drafted = await draftStep(deps.writer, step, content, context);
  let ready: ReadyContent = drafted.content;
  if (drafted.notes.aiDraft === true) {
    // The writer drafts plain text: the template's HTML no longer says the same, and a thread keeps its subject.
    const { html: _html, ...plain } = ready;
    ready = threaded ? { ...plain, subject: content.subject } : plain;
  }
  const { threading, ...shown } = ready;
  return { kind: 'ready', content: ready, rendered: { ...shown, ...(threading ?? {}), ...drafted.notes } };
}

/**
 * The HTML as it goes out: the open pixel and click redirects when the sequence tracks and a
 * public link base is configured (`deps.tracking`). What the execution row stores is the HTML
 * before this, as the author wrote it (none for a plain-text body, whose HTML part is made here).
 */
function trackedHtml(deps: EngineDeps, context: RunContext, html: string, executionId: string): string {
  const tracking = context.definition.tracking;
  const links = deps.tracking;
  if (!tracking || !links) return html;
  let out = html;
  if (tracking.clicks) out = rewriteLinks(out, (url) => (isHttpLink(url) ? links.clickUrl(executionId, url) : url));
  if (tracking.opens) out = withOpenPixel(out, links.openUrl(executionId));
  return out;
}

/** The address a step's message goes to: the lead's email, or its phone for a text or a call. */
export function recipientOf(step: DeliveryStep, context: RunContext): string | null {
  return (step.type === 'email' ? context.lead.email : context.lead.phone) ?? null;
}

/** Hands the message to the channel's adapter; called only once its intent is committed. */
export async function send(
  deps: EngineDeps,
  step: DeliveryStep,
  content: ReadyContent,
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
      // Every email is multipart: a plain-text body (and an AI draft) gets its plain-looking HTML part here.
      const authored = content.html ?? textToHtml(content.text);
      const html = trackedHtml(deps, context, authored, envelope.executionId);
      const tracked = html !== authored;
      const { threading } = content;
      const message: EmailMessage = {
        ...envelope,
        to: recipientOf(step, context)!,
        from: fromOf(deps, context),
        subject: content.subject ?? '',
        // The visible link next to the List-Unsubscribe header: not every client shows the header.
        text: unsubscribeUrl ? `${content.text}\n\n--\nUnsubscribe: ${unsubscribeUrl}` : content.text,
        html: unsubscribeUrl ? withUnsubscribeFooter(html, unsubscribeUrl) : html,
        unsubscribeUrl,
        ...(threading
          ? { messageId: threading.messageId, inReplyTo: threading.inReplyTo, references: threading.references }
          : {}),
        // Touchpoint counts this email's opens and clicks: the provider's own tracking would count them twice.
        ...(tracked ? { providerTracking: false } : {}),
      };
      if (mailbox) return await sendThroughMailbox(deps, mailbox, message);
      return await adapters.email.send(message);
    }
    case 'sms':
      return await adapters.sms.send({ ...envelope, to: recipientOf(step, context)!, from: sender?.phone ?? senders.smsFrom, text: content.text });
    case 'voice':
      return await adapters.voice.dial({
        ...envelope,
        to: recipientOf(step, context)!,
        from: sender?.phone ?? senders.voiceFrom,
        script: content.text,
        voicemail: content.voicemail,
      });
  }
}

/** The unsubscribe link in the HTML part too, where the reader sees the HTML rather than the text. */
function withUnsubscribeFooter(html: string, url: string): string {
  const escaped = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const footer = `<p style="font-size:12px;color:#888">--<br><a href="${escaped}">Unsubscribe</a></p>`;
  const close = html.search(/<\/body\s*>/i);
  return close >= 0 ? `${html.slice(0, close)}${footer}${html.slice(close)}` : `${html}${footer}`;
}

/** The rep's own mailbox sends, as its own From; its password is opened only for this call. */
export async function sendThroughMailbox(deps: EngineDeps, mailbox: MailboxRecord, message: EmailMessage): Promise<DeliveryResult> {
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
