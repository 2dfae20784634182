/**
 * A lead's timeline (every automated and manual touchpoint, newest first, cursor-paged,
 * filterable by kind and channel) and logging a manual activity onto it.
 */
import { z } from 'zod';
import { CHANNELS } from '../core/definition.ts';
import { ACTIVITY_KINDS, insertActivity } from '../db/activities.ts';
import type { Db } from '../db/db.ts';
import { getLead } from '../db/leads.ts';
import { TIMELINE_KINDS, timelinePage, type TimelineKind, type TimelineRow } from '../db/timeline.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { commonErrors, decodeCursor, fail, id, idParams, iso, isoTime, page, pageOf, pageQuery, type Api } from './wire.ts';

const kindList = z
  .string()
  .max(100)
  .transform((text, ctx) => {
    const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
    const unknown = kinds.filter((k) => !(TIMELINE_KINDS as readonly string[]).includes(k));
    if (unknown.length > 0 || kinds.length === 0) {
      ctx.addIssue({ code: 'custom', message: `kind takes a comma-separated list of ${TIMELINE_KINDS.join(', ')}; not "${unknown.join(', ') || text}".` });
      return z.NEVER;
    }
    return kinds as TimelineKind[];
  });

export const timelineItemSchema = z
  .object({
    id,
    kind: z.enum(TIMELINE_KINDS),
    at: isoTime,
    enrollmentId: id.nullable(),
    channel: z.string().nullable(),
    threadId: z
      .string()
      .nullable()
      .describe("The Message-ID of the first email of the email thread this send or event belongs to (items with the same threadId are one conversation); null outside a thread"),
    summary: z.string().describe('One line for a person to read'),
    data: z.record(z.string(), z.unknown()).describe('The kind\'s own fields: an execution\'s status and rendered content, an event\'s type, …'),
  })
  .meta({ id: 'TimelineItem' });

function summarise(row: TimelineRow): string {
  const d = row.data as Record<string, string | null | Record<string, unknown>>;
  switch (row.kind) {
    case 'execution': {
      const rendered = (d.rendered ?? {}) as Record<string, unknown>;
      const what = rendered.subject ?? rendered.text ?? rendered.title;
      const variant = d.variant ? ` (variant ${String(d.variant)})` : '';
      return `${d.stepType} step "${d.stepId}"${variant} ${d.status}${what ? `: ${String(what).slice(0, 120)}` : ''}`;
    }
    case 'event': {
      const details = (d.details ?? {}) as Record<string, unknown>;
      if (d.type === 'manual.outcome') {
        // What an operator recorded, in words: the bare event type said nothing of it.
        const note = typeof details.note === 'string' && details.note ? `: ${details.note.slice(0, 200)}` : '';
        return `Outcome "${String(details.outcome)}" recorded by ${String(details.actor ?? d.provider)}${d.stepId ? ` on step "${d.stepId}"` : ''}${note}`;
      }
      return `${d.type} (${d.provider})${d.replyClass ? ` — ${String(d.replyClass).replace('_', ' ')}${d.replyClassSource === 'operator' ? ' (corrected)' : ''}` : ''}`;
    }
    case 'activity': {
      const mailbox = ((d.details ?? {}) as { mailbox?: { name?: string } }).mailbox;
      // An answer to a reply, sent from the inbox through the thread's mailbox.
      if (mailbox) return `Email sent by ${d.actor} through mailbox ${String(mailbox.name)}`;
      return `${d.activityKind} logged by ${d.actor}${d.outcome ? ` — ${d.outcome}` : ''}`;
    }
    case 'change':
      return `${d.action}: ${d.from ?? 'new'} → ${d.to} by ${d.actor}${d.reason ? ` (${d.reason})` : ''}`;
  }
}

const activityBody = z.strictObject({
  kind: z.enum(ACTIVITY_KINDS),
  outcome: z.string().trim().min(1).max(100).optional(),
  body: z.string().max(10_000).optional(),
  channel: z.enum(CHANNELS).optional().describe('Default: voice for a call, email for an email, sms for an sms'),
  occurredAt: isoTime.optional().describe('Default: now'),
});

const IMPLIED_CHANNEL: Partial<Record<(typeof ACTIVITY_KINDS)[number], string>> = { call: 'voice', email: 'email', sms: 'sms' };

export function timelineRoutes(api: Api, db: Db, engine: Engine) {
  api.get(
    '/leads/:id/timeline',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "The lead's timeline: executions, events, activities, enrollment changes, newest first",
        tags: ['timeline'],
        params: idParams,
        querystring: z.object({
          ...pageQuery,
          kind: kindList.optional().describe(`Comma-separated: ${TIMELINE_KINDS.join(',')}`),
          channel: z.enum(CHANNELS).optional().describe('Only items on this channel (enrollment changes have none)'),
        }),
        response: { 200: page(timelineItemSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const before = decodeCursor(request.query.cursor);
      if (before === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      if (!(await getLead(db, caller.workspaceId, request.params.id))) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      const rows = await timelinePage(db, {
        workspaceId: caller.workspaceId,
        leadId: request.params.id,
        kinds: request.query.kind ?? TIMELINE_KINDS,
        channel: request.query.channel,
        before,
        limit: request.query.limit + 1,
      });
      const { items, nextCursor } = pageOf(rows, request.query.limit, (r) => r.at);
      return {
        items: items.map((r) => ({ id: r.id, kind: r.kind, at: iso(r.at)!, enrollmentId: r.enrollmentId, channel: r.channel, threadId: r.threadId, summary: summarise(r), data: r.data })),
        nextCursor,
      };
    },
  );

  api.post(
    '/leads/:id/activities',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Log a manual touchpoint (note, call, email, sms, meeting, task) on the timeline',
        tags: ['timeline'],
        params: idParams,
        body: activityBody,
        response: { 201: timelineItemSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!(await getLead(db, caller.workspaceId, request.params.id))) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      const body = request.body;
      const activity = await insertActivity(db, {
        workspaceId: caller.workspaceId,
        leadId: request.params.id,
        kind: body.kind,
        channel: body.channel ?? IMPLIED_CHANNEL[body.kind] ?? null,
        outcome: body.outcome ?? null,
        body: body.body ?? null,
        actor: caller.actor,
        occurredAt: body.occurredAt ? new Date(body.occurredAt) : engine.deps.clock.now(),
      });
      const row: TimelineRow = {
        kind: 'activity',
        id: activity.id,
        at: activity.occurredAt,
        enrollmentId: null,
        channel: activity.channel,
        threadId: null,
        data: { activityKind: activity.kind, outcome: activity.outcome, body: activity.body, actor: activity.actor },
      };
      return reply.status(201).send({ id: row.id, kind: row.kind, at: iso(row.at)!, enrollmentId: null, channel: row.channel, threadId: null, summary: summarise(row), data: row.data });
    },
  );
}
