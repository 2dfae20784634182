/**
 * `POST /api/replies/{eventId}/respond`: an operator answers a lead's email reply from the
 * Replies inbox, through the mailbox that sent the thread (docs/MAILBOXES.md, "Answering a reply
 * by hand"). The same send path as a sequence's mailbox emails (`sendThroughMailbox`: the sealed
 * password opened for the call, the pooled SMTP transport, its classified failures), the same
 * daily count, threaded under the lead's reply (`Re:`, In-Reply-To, References), refused for a
 * suppressed address, guarded against a double click, and kept on the lead's timeline as a
 * manual email in the thread.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { newMessageId, replySubject, MAX_REFERENCES } from '../core/threads.ts';
import type { Db } from '../db/db.ts';
import { dropManualReply, markManualReplyUnknown, recordManualReply, replyThread, reserveManualReply, setManualReplyMessageId, type ReplyThread } from '../db/manualReplies.ts';
import { sendThroughMailbox } from '../engine/delivery.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { commonErrors, errorSchema, fail, id, isoTime, type Api } from './wire.ts';

/** Without an `idempotencyKey`, the same words to the same reply within this long are one answer. */
export const DERIVED_DEDUPE_MS = 10 * 60_000;
/** The SMTP session's deadline: an operator waits for the answer. */
const SEND_DEADLINE_MS = 60_000;

const respondBody = z.strictObject({
  text: z.string().trim().min(1, 'write the answer (`text` is empty)').max(20_000),
  subject: z.string().trim().min(1).max(500).optional().describe('Absent: `Re: ` and the subject of the lead\'s reply (or of the email it answers)'),
  idempotencyKey: z
    .string()
    .trim()
    .min(8)
    .max(200)
    .optional()
    .describe('One per answer written (the dashboard makes one per draft): a repeat answers what the first did and sends nothing. Absent: the same text to the same reply within 10 minutes is one answer'),
});

const manualReplySchema = z
  .object({
    id: id.describe("The answer's id (its audit row)"),
    activityId: id.describe('The manual email on the lead timeline'),
    eventId: id.describe('The reply it answers'),
    leadId: id,
    to: z.string(),
    from: z.object({ email: z.string(), name: z.string().nullable() }),
    mailbox: z.object({ id, name: z.string() }),
    subject: z.string(),
    text: z.string(),
    messageId: z.string().describe('Its Message-ID, without angle brackets'),
    inReplyTo: z.string().describe("The lead's reply's Message-ID (or, when the reply carried none, the email it answered)"),
    references: z.array(z.string()),
    threadId: z.string().nullable().describe("The thread's root Message-ID (the timeline's threadId)"),
    sentAt: isoTime,
    actor: z.string(),
  })
  .meta({ id: 'ManualReply' });
type ManualReply = z.infer<typeof manualReplySchema>;

/** The chain the answer names: the answered email's References and id, then the lead's reply. */
function threading(thread: ReplyThread): { inReplyTo: string; references: string[] } | undefined {
  const chain = [...(thread.answeredReferences ?? []), thread.answeredMessageId, thread.replyMessageId].filter(
    (m, i, all): m is string => typeof m === 'string' && m !== '' && all.indexOf(m) === i,
  );
  const inReplyTo = thread.replyMessageId ?? thread.answeredMessageId;
  if (!inReplyTo) return undefined;
  const references = chain.length > MAX_REFERENCES ? [chain[0]!, ...chain.slice(-(MAX_REFERENCES - 1))] : chain;
  return { inReplyTo, references };
}

export function replyRespondRoutes(api: Api, db: Db, engine: Engine) {
  api.post(
    '/replies/:eventId/respond',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: "Answer a lead's email reply through the mailbox that sent the thread",
        description: [
          "Sent over SMTP from the enrollment's own mailbox, as `Re: <subject>` with In-Reply-To and References naming the lead's reply, counted against the mailbox's daily limit; then kept on the lead's timeline as a manual email in the thread.",
          '409 `no_mailbox`: an SMS reply, or a thread sent by the email provider (no mailbox) — write from your own mail client. 409 `suppressed`: the address is on the suppression list. 409 `mailbox_limit`: the mailbox sent its daily limit. 409 `in_progress`: the same answer is being sent. 502 `send_failed`: the mail server refused or could not be reached; nothing was sent (the sentence says why).',
        ].join('\n\n'),
        tags: ['events'],
        params: z.object({ eventId: id }),
        body: respondBody,
        response: { 200: manualReplySchema, 201: manualReplySchema, 409: errorSchema, 502: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { eventId } = request.params;
      const thread = await replyThread(db, caller.workspaceId, eventId);
      if (!thread) return fail(reply, 404, 'not_found', `Reply ${eventId} does not exist in this workspace (only email.replied and sms.replied events are replies).`);
      if (thread.type === 'sms.replied') {
        return fail(reply, 409, 'no_mailbox', 'This reply came by SMS: there is no mailbox to answer it from. Text the lead from your phone, or log the call or SMS as an activity.');
      }
      if (!thread.mailboxId) {
        return fail(reply, 409, 'no_mailbox', "This thread was sent through the workspace's email provider, not a mailbox, so there is no mailbox to answer from. Answer from your own mail client (the Email link).");
      }
      if (!thread.leadId || !thread.leadEmail) return fail(reply, 409, 'no_address', 'The lead of this reply has no email address any more; add one on the lead, then answer.');
      if (thread.suppressed) {
        return fail(reply, 409, 'suppressed', `${thread.leadEmail} is on this workspace's suppression list (or its domain is), so nothing is sent to it. Remove it from Suppressions first if the lead asked to hear from you.`);
      }
      const links = threading(thread);
      if (!links) return fail(reply, 409, 'no_thread', 'Neither the reply nor the email it answers has a Message-ID, so an answer could not be threaded; answer from your own mail client.');

      const body = request.body;
      const subject = body.subject ?? replySubject(thread.replySubject ?? thread.answeredSubject ?? '');
      const derived = body.idempotencyKey === undefined;
      const key = body.idempotencyKey
        ? `key:${body.idempotencyKey}`
        : `text:${createHash('sha256').update(`${eventId}\n${caller.actor}\n${subject}\n${body.text}`).digest('base64url')}`;
      const now = engine.deps.clock.now();
      const rowId = randomUUID();
      const reservation = await reserveManualReply(db, {
        id: rowId,
        workspaceId: caller.workspaceId,
        eventId,
        leadId: thread.leadId,
        mailboxId: thread.mailboxId,
        key,
        derived,
        derivedWindowMs: DERIVED_DEDUPE_MS,
        sendingStaleMs: SEND_DEADLINE_MS + 60_000,
        actor: caller.actor,
        // Filled with the mailbox's domain below; the unique part is fixed now.
        messageId: rowId,
        workspaceZone: thread.workspaceZone,
        now,
      });
      switch (reservation.kind) {
        case 'repeat':
          return reply.status(200).send(reservation.answer as ManualReply);
        case 'busy':
          return fail(
            reply,
            409,
            'in_progress',
            reservation.status === 'sending'
              ? 'This answer is being sent already (a second click?); it shows on the thread when the mail server confirms it.'
              : 'This answer was handed to the mail server, which did not confirm it: look in the mailbox\'s Sent folder before writing it again.',
          );
        case 'no_mailbox':
          return fail(reply, 409, 'no_mailbox', 'The mailbox that sent this thread was deleted, so there is none to answer from. Answer from your own mail client.');
        case 'limit':
          return fail(
            reply,
            409,
            'mailbox_limit',
            `Mailbox ${reservation.mailbox.name} has sent ${reservation.sent} of its ${reservation.limit} emails today (${reservation.day}); nothing was sent. Raise its daily limit on the Mailboxes page, or answer from your own mail client.`,
          );
        case 'reserved':
          break;
      }
      const { mailbox } = reservation;
      const messageId = newMessageId(rowId, mailbox.fromEmail);
      await setManualReplyMessageId(db, rowId, messageId);
      // The adapter's answer (the api room reaches delivery only through the engine).
      let result: Awaited<ReturnType<typeof sendThroughMailbox>>;
      try {
        result = await sendThroughMailbox(engine.deps, mailbox, {
          // Not an execution of any step: fresh ids, so no provider event can match a step.
          idempotencyKey: `manual:${rowId}`,
          executionId: rowId,
          enrollmentId: thread.enrollmentId ?? rowId,
          workspaceId: caller.workspaceId,
          deadline: new Date(now.getTime() + SEND_DEADLINE_MS),
          to: thread.leadEmail,
          from: { email: mailbox.fromEmail },
          subject,
          text: body.text,
          messageId,
          inReplyTo: links.inReplyTo,
          references: links.references,
        });
      } catch (error) {
        await markManualReplyUnknown(db, rowId);
        request.log.warn({ err: error, eventId }, 'a manual answer may have been sent without confirmation');
        return reply.status(502).send({
          error: { code: 'send_unconfirmed', message: `Not confirmed: ${(error as Error).message} The server may have the message: look in the mailbox's Sent folder before writing it again.` },
        } as never);
      }
      if (result.kind === 'failed') {
        await dropManualReply(db, rowId);
        return reply.status(502).send({ error: { code: 'send_failed', message: `Not sent through mailbox ${mailbox.name}: ${result.message}`, details: { smtpCode: result.code, retryable: result.retryable } } } as never);
      }
      const from = { email: mailbox.fromEmail, name: mailbox.fromName };
      const at = engine.deps.clock.now();
      const answer = await recordManualReply(db, {
        id: rowId,
        workspaceId: caller.workspaceId,
        leadId: thread.leadId,
        threadId: thread.threadId,
        text: body.text,
        actor: caller.actor,
        at,
        details: {
          subject,
          text: body.text,
          to: thread.leadEmail,
          messageId,
          inReplyTo: links.inReplyTo,
          references: links.references,
          replyEventId: eventId,
          mailbox: { id: mailbox.id, name: mailbox.name, fromEmail: mailbox.fromEmail, fromName: mailbox.fromName },
          providerMessageId: result.providerMessageId,
        },
        answer: (activityId): ManualReply => ({
          id: rowId,
          activityId,
          eventId,
          leadId: thread.leadId!,
          to: thread.leadEmail!,
          from,
          mailbox: { id: mailbox.id, name: mailbox.name },
          subject,
          text: body.text,
          messageId,
          inReplyTo: links.inReplyTo,
          references: links.references,
          threadId: thread.threadId,
          sentAt: at.toISOString(),
          actor: caller.actor,
        }),
      });
      engine.deps.live?.publish([
        { kind: 'lead', workspaceId: caller.workspaceId, leadId: thread.leadId },
        { kind: 'reply', workspaceId: caller.workspaceId, leadId: thread.leadId, eventId },
        { kind: 'mailbox', workspaceId: caller.workspaceId, mailboxId: mailbox.id },
      ]);
      return reply.status(201).send(answer as ManualReply);
    },
  );
}
