/**
 * The replies inbox (docs/DASHBOARD.md, "Replies"): `GET /api/replies` lists every reply of the
 * workspace newest first with its thread (what we sent and what they answered), lead, sequence,
 * step and class; `PUT /api/replies/{eventId}/snooze` hides one until a time. The one-click
 * actions on a reply are the existing routes (convert, log an activity, pause, enroll), and the
 * answer through the thread's mailbox is `replyRespond.ts`.
 */
import { z } from 'zod';
import { REPLY_CLASSES } from '../core/sentiment.ts';
import type { Db } from '../db/db.ts';
import { listReplies, snoozeReply, type ReplyRow } from '../db/replies.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { commonErrors, decodeCursor, fail, id, iso, isoTime, page, pageOf, pageQuery, type Api } from './wire.ts';

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const replySchema = z
  .object({
    id: id.describe("The reply event's id (the timeline's, and `PUT /api/replies/{eventId}/class`'s)"),
    type: z.enum(['email.replied', 'sms.replied']),
    channel: z.enum(['email', 'sms']),
    receivedAt: isoTime,
    subject: z.string().nullable(),
    text: z.string().describe('What the lead wrote (empty when the provider sent no text)'),
    class: z.string().nullable().describe(`One of ${REPLY_CLASSES.join(', ')}, or null when unclassified`),
    classSource: z.enum(['rules', 'ai', 'operator']).nullable(),
    lead: z
      .object({
        id,
        firstName: z.string().nullable(),
        lastName: z.string().nullable(),
        email: z.string().nullable(),
        phone: z.string().nullable(),
        company: z.string().nullable(),
        timezone: z.string().nullable(),
        status: z.string(),
      })
      .nullable(),
    sequence: z.object({ id, name: z.string() }).nullable(),
    enrollment: z.object({ id, status: z.string() }).nullable(),
    stepId: z.string().nullable(),
    answered: z
      .object({ subject: z.string().nullable(), text: z.string().nullable(), sentAt: isoTime.nullable() })
      .nullable()
      .describe('The message the reply answers, as we sent it (rendered), when known'),
    snoozedUntil: isoTime.nullable(),
    mailbox: z
      .object({ id, name: z.string(), fromEmail: z.string() })
      .nullable()
      .describe('The mailbox that sent the thread, which `POST /api/replies/{eventId}/respond` answers through; null for an SMS reply or a thread the email provider sent'),
  })
  .meta({ id: 'Reply' });

function replyToWire(row: ReplyRow): z.infer<typeof replySchema> {
  const answered = row.answered ?? undefined;
  return {
    id: row.id,
    type: row.type,
    channel: row.type === 'sms.replied' ? 'sms' : 'email',
    receivedAt: iso(row.occurredAt)!,
    subject: text(row.data.subject),
    text: text(row.data.text) ?? '',
    class: row.replyClass,
    classSource: (row.replyClassSource as 'rules' | 'ai' | 'operator' | null) ?? null,
    lead: row.leadId
      ? {
          id: row.leadId,
          firstName: row.leadFirstName,
          lastName: row.leadLastName,
          email: row.leadEmail,
          phone: row.leadPhone,
          company: row.leadCompany,
          timezone: row.leadTimezone,
          status: row.leadStatus ?? 'new',
        }
      : null,
    sequence: row.sequenceId ? { id: row.sequenceId, name: row.sequenceName ?? '' } : null,
    enrollment: row.enrollmentId ? { id: row.enrollmentId, status: row.enrollmentStatus ?? '' } : null,
    stepId: row.stepId,
    answered: answered ? { subject: text(answered.subject), text: text(answered.text), sentAt: iso(row.answeredAt) } : null,
    snoozedUntil: iso(row.snoozedUntil),
    mailbox: row.mailboxId ? { id: row.mailboxId, name: row.mailboxName ?? '', fromEmail: row.mailboxFromEmail ?? '' } : null,
  };
}

export function replyRoutes(api: Api, db: Db, engine: Engine) {
  api.get(
    '/replies',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Every reply of the workspace, newest first (the replies inbox)',
        description:
          'Email and SMS replies with the lead, the sequence and step they answer, what was sent there, and the class. Snoozed replies are left out until their time (`snoozed=only` lists them, `snoozed=all` everything).',
        tags: ['events'],
        querystring: z.object({
          ...pageQuery,
          snoozed: z.enum(['hide', 'only', 'all']).default('hide'),
          class: z.enum(REPLY_CLASSES).optional(),
        }),
        response: { 200: page(replySchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      const { limit } = request.query;
      const rows = await listReplies(db, {
        workspaceId: callerOf(request).workspaceId,
        now: engine.deps.clock.now(),
        snoozed: request.query.snoozed,
        replyClass: request.query.class,
        after,
        limit: limit + 1,
      });
      const { items, nextCursor } = pageOf(rows, limit, (row) => row.occurredAt);
      return { items: items.map(replyToWire), nextCursor };
    },
  );

  api.put(
    '/replies/:eventId/snooze',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Hide a reply from the inbox until a time (null: show it again)',
        tags: ['events'],
        params: z.object({ eventId: id }),
        body: z.strictObject({ until: isoTime.nullable() }),
        response: { 200: z.object({ eventId: id, snoozedUntil: isoTime.nullable() }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const now = engine.deps.clock.now();
      const until = request.body.until === null ? null : new Date(request.body.until);
      if (until && until.getTime() <= now.getTime()) return fail(reply, 400, 'invalid_until', '`until` must be in the future (send null to show the reply again).');
      const found = await snoozeReply(db, { workspaceId: caller.workspaceId, eventId: request.params.eventId, until, actor: caller.actor, now });
      if (!found) return fail(reply, 404, 'not_found', `Reply ${request.params.eventId} does not exist (only email.replied and sms.replied events are replies).`);
      return { eventId: request.params.eventId, snoozedUntil: iso(until) };
    },
  );
}
