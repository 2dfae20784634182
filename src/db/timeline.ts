/**
 * A lead's timeline: executions, events, activities and enrollment changes, newest first, in
 * one UNION ALL keyset-paged on (at, id). Each branch reads at most `limit` rows through its
 * `(lead_id, at desc, id desc)` index (migration 002), so a page costs the same for a lead with
 * ten items or ten thousand.
 *
 * Email threads (docs/DASHBOARD.md, "The thread on the lead timeline"): every email execution
 * and every event about one carries `threadId`, the Message-ID of the thread's first email (the
 * root of its References, else its own id), so the dashboard can show a conversation as one.
 * An event's thread is its execution's, read by primary key: no extra index, no extra pass. A
 * manual email answering a reply (src/db/manualReplies.ts) is an activity that keeps its thread.
 */
import type { Queryable } from './db.ts';

export const TIMELINE_KINDS = ['execution', 'event', 'activity', 'change'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineRow {
  kind: TimelineKind;
  id: string;
  at: Date;
  enrollmentId: string | null;
  channel: string | null;
  /** The Message-ID of the first email of the thread this item belongs to; null outside an email thread. */
  threadId: string | null;
  data: Record<string, unknown>;
}

/** The thread root of an execution row aliased `x`: References start at the root; a first email is its own. */
const THREAD_ROOT = (x: string) =>
  `case when ${x}.channel = 'email' then coalesce(${x}.rendered -> 'references' ->> 0, ${x}.rendered ->> 'messageId') end`;

export async function timelinePage(
  db: Queryable,
  args: {
    workspaceId: string;
    leadId: string;
    kinds: readonly TimelineKind[];
    channel?: string;
    before?: { at: Date; id: string };
    limit: number;
  },
): Promise<TimelineRow[]> {
  return db.query<TimelineRow>(
    `(select 'execution' as kind, x.id, x.started_at as at, x.enrollment_id as "enrollmentId", x.channel,
        ${THREAD_ROOT('x')} as "threadId",
        jsonb_build_object('sequenceId', x.sequence_id, 'sequenceName', (select s.name from sequences s where s.id = x.sequence_id),
          'stepId', x.step_id, 'stepType', x.step_type, 'status', x.status, 'adapter', x.adapter,
          'providerMessageId', x.provider_message_id, 'errorCode', x.error_code, 'errorMessage', x.error_message,
          'rendered', x.rendered, 'completedAt', x.completed_at, 'variant', x.variant,
          -- Who sent it: the mailbox as it is now, else as it was when the intent was written (it may be gone).
          'mailbox', case when x.metadata ? 'mailboxId' then coalesce(
            (select jsonb_build_object('id', m.id, 'name', m.name, 'fromEmail', m.from_email, 'fromName', m.from_name)
               from mailboxes m where m.id = (x.metadata ->> 'mailboxId')::uuid and m.workspace_id = x.workspace_id),
            jsonb_build_object('id', x.metadata ->> 'mailboxId', 'name', x.metadata -> 'from' ->> 'mailboxName',
              'fromEmail', x.metadata -> 'from' ->> 'email', 'fromName', x.metadata -> 'from' ->> 'name', 'deleted', true)) end) as data
      from sequence_executions x
      where x.lead_id = $1 and x.workspace_id = $2 and 'execution' = any($3::text[])
        and ($4::text is null or x.channel = $4)
        and ($5::timestamptz is null or (x.started_at, x.id) < ($5, $6::uuid))
      order by x.started_at desc, x.id desc limit $7)
     union all
     (select 'event', ev.id, ev.occurred_at, ev.enrollment_id, ev.channel,
        (select ${THREAD_ROOT('px')} from sequence_executions px where px.id = ev.execution_id),
        jsonb_build_object('type', ev.type, 'provider', ev.provider, 'executionId', ev.execution_id,
          'stepId', ev.step_id, 'details', ev.data, 'replyClass', ev.reply_class, 'replyClassSource', ev.reply_class_source,
          'replyClassMachine', ev.reply_class_machine)
      from events ev
      where ev.lead_id = $1 and ev.workspace_id = $2 and 'event' = any($3::text[])
        and ($4::text is null or ev.channel = $4)
        and ($5::timestamptz is null or (ev.occurred_at, ev.id) < ($5, $6::uuid))
      order by ev.occurred_at desc, ev.id desc limit $7)
     union all
     (select 'activity', a.id, a.occurred_at, null::uuid, a.channel, a.thread_id,
        jsonb_build_object('activityKind', a.kind, 'outcome', a.outcome, 'body', a.body, 'actor', a.actor, 'details', a.details)
      from activities a
      where a.lead_id = $1 and a.workspace_id = $2 and 'activity' = any($3::text[])
        and ($4::text is null or a.channel = $4)
        and ($5::timestamptz is null or (a.occurred_at, a.id) < ($5, $6::uuid))
      order by a.occurred_at desc, a.id desc limit $7)
     union all
     (select 'change', c.id, c.at, c.enrollment_id, null::text, null::text,
        jsonb_build_object('action', c.action, 'from', c.from_status, 'to', c.to_status, 'reason', c.reason, 'actor', c.actor,
          'sequenceName', (select s.name from enrollments e join sequences s on s.id = e.sequence_id where e.id = c.enrollment_id))
      from enrollment_changes c
      where c.lead_id = $1 and c.workspace_id = $2 and 'change' = any($3::text[])
        and $4::text is null
        and ($5::timestamptz is null or (c.at, c.id) < ($5, $6::uuid))
      order by c.at desc, c.id desc limit $7)
     order by at desc, id desc
     limit $7`,
    [args.leadId, args.workspaceId, args.kinds, args.channel ?? null, args.before?.at ?? null, args.before?.id ?? null, args.limit],
  );
}
