/**
 * The replies inbox (docs/DASHBOARD.md, "Replies"): every `email.replied` and `sms.replied` of a
 * workspace, newest first, with the lead, the sequence and step it answers and what we sent
 * there, and the snooze that hides it until a time (migration 022).
 */
import type { Queryable } from './db.ts';

export interface ReplyRow {
  id: string;
  type: 'email.replied' | 'sms.replied';
  channel: string | null;
  occurredAt: Date;
  data: Record<string, unknown>;
  replyClass: string | null;
  replyClassSource: string | null;
  leadId: string | null;
  leadFirstName: string | null;
  leadLastName: string | null;
  leadEmail: string | null;
  leadPhone: string | null;
  leadCompany: string | null;
  leadStatus: string | null;
  leadTimezone: string | null;
  enrollmentId: string | null;
  enrollmentStatus: string | null;
  sequenceId: string | null;
  sequenceName: string | null;
  stepId: string | null;
  answered: Record<string, unknown> | null;
  answeredAt: Date | null;
  snoozedUntil: Date | null;
  /** The mailbox an answer goes through (the enrollment's, else the answered email's); null: none. */
  mailboxId: string | null;
  mailboxName: string | null;
  mailboxFromEmail: string | null;
}

export async function listReplies(
  db: Queryable,
  filter: { workspaceId: string; now: Date; snoozed: 'hide' | 'only' | 'all'; replyClass?: string; after?: { at: Date; id: string }; limit: number },
): Promise<ReplyRow[]> {
  return db.query<ReplyRow>(
    `select e.id, e.type, e.channel, e.occurred_at as "occurredAt", e.data,
            e.reply_class as "replyClass", e.reply_class_source as "replyClassSource",
            l.id as "leadId", l.first_name as "leadFirstName", l.last_name as "leadLastName", l.email as "leadEmail",
            l.phone as "leadPhone", l.company as "leadCompany", l.status as "leadStatus", l.timezone as "leadTimezone",
            en.id as "enrollmentId", en.status as "enrollmentStatus", s.id as "sequenceId", s.name as "sequenceName",
            e.step_id as "stepId", x.rendered as answered, x.started_at as "answeredAt",
            case when z.until > $2 then z.until end as "snoozedUntil",
            m.id as "mailboxId", m.name as "mailboxName", m.from_email as "mailboxFromEmail"
     from events e
     left join leads l on l.id = e.lead_id
     left join enrollments en on en.id = e.enrollment_id
     left join sequences s on s.id = en.sequence_id
     left join sequence_executions x on x.id = e.execution_id
     left join reply_snoozes z on z.event_id = e.id
     left join mailboxes m on e.type = 'email.replied' and m.workspace_id = e.workspace_id
       and m.id = coalesce(en.mailbox_id, case when x.metadata ? 'mailboxId' then (x.metadata ->> 'mailboxId')::uuid end)
     where e.workspace_id = $1 and e.type in ('email.replied', 'sms.replied')
       and ($3 = 'all' or ($3 = 'hide' and (z.until is null or z.until <= $2)) or ($3 = 'only' and z.until > $2))
       and ($4::text is null or e.reply_class = $4)
       and ($5::timestamptz is null or (e.occurred_at, e.id) < ($5, $6::uuid))
     order by e.occurred_at desc, e.id desc
     limit $7`,
    [filter.workspaceId, filter.now, filter.snoozed, filter.replyClass ?? null, filter.after?.at ?? null, filter.after?.id ?? null, filter.limit],
  );
}

/** Hides a reply until `until` (null: shows it again). Answers false when the workspace has no such reply. */
export async function snoozeReply(
  db: Queryable,
  args: { workspaceId: string; eventId: string; until: Date | null; actor: string; now: Date },
): Promise<boolean> {
  const [reply] = await db.query(`select id from events where id = $1 and workspace_id = $2 and type in ('email.replied', 'sms.replied')`, [
    args.eventId,
    args.workspaceId,
  ]);
  if (!reply) return false;
  if (args.until === null) {
    await db.query(`delete from reply_snoozes where event_id = $1`, [args.eventId]);
    return true;
  }
  await db.query(
    `insert into reply_snoozes (event_id, workspace_id, until, actor, created_at) values ($1, $2, $3, $4, $5)
     on conflict (event_id) do update set until = excluded.until, actor = excluded.actor, created_at = excluded.created_at`,
    [args.eventId, args.workspaceId, args.until, args.actor, args.now],
  );
  return true;
}
