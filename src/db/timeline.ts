/**
 * A lead's timeline: executions, events, activities and enrollment changes, newest first, in
 * one UNION ALL keyset-paged on (at, id). Each branch reads at most `limit` rows through its
 * `(lead_id, at desc, id desc)` index (migration 002), so a page costs the same for a lead with
 * ten items or ten thousand.
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
  data: Record<string, unknown>;
}

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
        jsonb_build_object('sequenceId', x.sequence_id, 'sequenceName', (select s.name from sequences s where s.id = x.sequence_id),
          'stepId', x.step_id, 'stepType', x.step_type, 'status', x.status, 'adapter', x.adapter,
          'providerMessageId', x.provider_message_id, 'errorCode', x.error_code, 'errorMessage', x.error_message,
          'rendered', x.rendered, 'completedAt', x.completed_at, 'variant', x.variant) as data
      from sequence_executions x
      where x.lead_id = $1 and x.workspace_id = $2 and 'execution' = any($3::text[])
        and ($4::text is null or x.channel = $4)
        and ($5::timestamptz is null or (x.started_at, x.id) < ($5, $6::uuid))
      order by x.started_at desc, x.id desc limit $7)
     union all
     (select 'event', ev.id, ev.occurred_at, ev.enrollment_id, ev.channel,
        jsonb_build_object('type', ev.type, 'provider', ev.provider, 'executionId', ev.execution_id,
          'stepId', ev.step_id, 'details', ev.data, 'replyClass', ev.reply_class, 'replyClassSource', ev.reply_class_source,
          'replyClassMachine', ev.reply_class_machine)
      from events ev
      where ev.lead_id = $1 and ev.workspace_id = $2 and 'event' = any($3::text[])
        and ($4::text is null or ev.channel = $4)
        and ($5::timestamptz is null or (ev.occurred_at, ev.id) < ($5, $6::uuid))
      order by ev.occurred_at desc, ev.id desc limit $7)
     union all
     (select 'activity', a.id, a.occurred_at, null::uuid, a.channel,
        jsonb_build_object('activityKind', a.kind, 'outcome', a.outcome, 'body', a.body, 'actor', a.actor)
      from activities a
      where a.lead_id = $1 and a.workspace_id = $2 and 'activity' = any($3::text[])
        and ($4::text is null or a.channel = $4)
        and ($5::timestamptz is null or (a.occurred_at, a.id) < ($5, $6::uuid))
      order by a.occurred_at desc, a.id desc limit $7)
     union all
     (select 'change', c.id, c.at, c.enrollment_id, null::text,
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
