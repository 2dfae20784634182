/**
 * Answering a lead's reply by hand (docs/MAILBOXES.md, "Answering a reply by hand"): what the
 * reply is about (its lead, the thread it belongs to, the mailbox that sent the thread), the
 * reservation taken before the SMTP session — the double-click guard and the mailbox's day
 * count, in one transaction under the mailbox row's lock, like the engine's own mailbox sends —
 * and, once the server took the message, the manual email on the lead's timeline (migration 032).
 */
import { limitOn, mailboxDay } from '../core/mailboxLimits.ts';
import type { Db, Queryable } from './db.ts';
import { mailboxZone, sentOn, type MailboxRecord } from './mailboxes.ts';

/** What an answer to one reply needs to know, read in one statement. */
export interface ReplyThread {
  eventId: string;
  type: 'email.replied' | 'sms.replied';
  leadId: string | null;
  leadEmail: string | null;
  enrollmentId: string | null;
  /** The enrollment's sticky mailbox, else the one the answered email went out from. */
  mailboxId: string | null;
  /** The lead's reply as received: its Message-ID (no angle brackets) and subject, when known. */
  replyMessageId: string | null;
  replySubject: string | null;
  /** The email the reply answers, as we sent it. */
  answeredMessageId: string | null;
  answeredSubject: string | null;
  answeredReferences: string[] | null;
  /** The root Message-ID of the thread (the timeline's `threadId`). */
  threadId: string | null;
  /** The lead's address (or its domain) is on the workspace's email suppression list. */
  suppressed: boolean;
  workspaceZone: string;
}

export async function replyThread(db: Queryable, workspaceId: string, eventId: string): Promise<ReplyThread | undefined> {
  const [row] = await db.query<ReplyThread>(
    `select e.id as "eventId", e.type, e.lead_id as "leadId", l.email as "leadEmail", e.enrollment_id as "enrollmentId",
            coalesce(en.mailbox_id, case when x.metadata ? 'mailboxId' then (x.metadata ->> 'mailboxId')::uuid end) as "mailboxId",
            e.data ->> 'messageId' as "replyMessageId", e.data ->> 'subject' as "replySubject",
            x.rendered ->> 'messageId' as "answeredMessageId", x.rendered ->> 'subject' as "answeredSubject",
            x.rendered -> 'references' as "answeredReferences",
            case when x.channel = 'email' then coalesce(x.rendered -> 'references' ->> 0, x.rendered ->> 'messageId') end as "threadId",
            (l.email is not null and exists (select 1 from suppressions s where s.workspace_id = e.workspace_id and s.channel = 'email'
               and s.address in (lower(l.email), '@' || split_part(lower(l.email), '@', 2)))) as suppressed,
            coalesce(w.timezone, 'UTC') as "workspaceZone"
     from events e
     join workspaces w on w.id = e.workspace_id
     left join leads l on l.id = e.lead_id
     left join enrollments en on en.id = e.enrollment_id
     left join sequence_executions x on x.id = e.execution_id
     where e.workspace_id = $1 and e.id = $2 and e.type in ('email.replied', 'sms.replied')`,
    [workspaceId, eventId],
  );
  return row;
}

export type Reservation =
  /** Counted and reserved: send through `mailbox`. */
  | { kind: 'reserved'; id: string; mailbox: MailboxRecord }
  /** The same answer was sent already: its answer, as first given. */
  | { kind: 'repeat'; answer: Record<string, unknown> }
  /** The same answer is being sent right now, or its outcome is unknown. */
  | { kind: 'busy'; status: 'sending' | 'unknown' }
  | { kind: 'limit'; mailbox: MailboxRecord; sent: number; limit: number; day: string }
  | { kind: 'no_mailbox' };

/**
 * Takes the mailbox row's lock, then: a repeat of a key already used answers what it answered (a
 * derived key only within `derivedWindowMs`: the same words may be sent again later, on purpose);
 * a mailbox at its daily limit refuses; otherwise the send is counted against the mailbox's
 * local day (its last send moves too, so the sequences' minimum gap counts from it) and the
 * reservation row written, `sending`.
 */
export async function reserveManualReply(
  db: Db,
  args: {
    id: string;
    workspaceId: string;
    eventId: string;
    leadId: string | null;
    mailboxId: string;
    key: string;
    derived: boolean;
    derivedWindowMs: number;
    /** A `sending` row older than this (the send's deadline and a margin) was left by a crash. */
    sendingStaleMs: number;
    actor: string;
    messageId: string;
    workspaceZone: string;
    now: Date;
  },
): Promise<Reservation> {
  return db.transaction(async (tx) => {
    const [mailbox] = await tx.query<MailboxRecord>(
      `select id, workspace_id as "workspaceId", name, from_email as "fromEmail", from_name as "fromName", smtp,
              smtp_password_sealed as "smtpPasswordSealed", daily_limit as "dailyLimit", warmup,
              to_char(warmup_started_on, 'YYYY-MM-DD') as "warmupStartedOn", timezone, updated_at as "updatedAt"
       from mailboxes where id = $1 and workspace_id = $2 for update`,
      [args.mailboxId, args.workspaceId],
    );
    if (!mailbox) return { kind: 'no_mailbox' };
    const [earlier] = await tx.query<{ id: string; status: 'sending' | 'sent' | 'unknown'; answer: Record<string, unknown> | null; createdAt: Date }>(
      `select id, status, answer, created_at as "createdAt" from manual_replies where workspace_id = $1 and idempotency_key = $2`,
      [args.workspaceId, args.key],
    );
    if (earlier) {
      const age = args.now.getTime() - earlier.createdAt.getTime();
      const fresh = !args.derived || age < args.derivedWindowMs;
      if (fresh && earlier.status === 'sent' && earlier.answer) return { kind: 'repeat', answer: earlier.answer };
      // Still `sending` long past the send's deadline: its process died mid-send, so the outcome is unknown.
      if (fresh && earlier.status !== 'sent') return { kind: 'busy', status: earlier.status === 'sending' && age > args.sendingStaleMs ? 'unknown' : earlier.status };
      // An older answer with the same words: kept for the record under a key of its own.
      await tx.query(`update manual_replies set idempotency_key = idempotency_key || ':' || id::text where id = $1`, [earlier.id]);
    }
    const { day } = mailboxDay(args.now, mailboxZone(mailbox, args.workspaceZone));
    const limit = limitOn(mailbox.dailyLimit, day, mailbox.warmup, mailbox.warmupStartedOn);
    const sent = (await sentOn(tx, [{ mailboxId: mailbox.id, day }])).get(mailbox.id) ?? 0;
    if (sent >= limit) return { kind: 'limit', mailbox, sent, limit, day };
    await tx.query(
      `insert into mailbox_day_counts as c (mailbox_id, day, sent) values ($1, $2, 1)
       on conflict (mailbox_id, day) do update set sent = c.sent + 1`,
      [mailbox.id, day],
    );
    await tx.query(`update mailboxes set last_send_at = greatest(coalesce(last_send_at, $2::timestamptz), $2::timestamptz) where id = $1`, [mailbox.id, args.now]);
    await tx.query(
      `insert into manual_replies (id, workspace_id, reply_event_id, lead_id, mailbox_id, idempotency_key, actor, status, message_id, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, 'sending', $8, $9)`,
      [args.id, args.workspaceId, args.eventId, args.leadId, mailbox.id, args.key, args.actor, args.messageId, args.now],
    );
    return { kind: 'reserved', id: args.id, mailbox };
  });
}

/** A definite failure: nothing went out, so nothing is kept but the day's count (docs/MAILBOXES.md). */
export async function dropManualReply(db: Queryable, id: string): Promise<void> {
  await db.query(`delete from manual_replies where id = $1 and status = 'sending'`, [id]);
}

/** The Message-ID the reply goes out with, kept before the send so a crash after it still names it. */
export async function setManualReplyMessageId(db: Queryable, id: string, messageId: string): Promise<void> {
  await db.query('update manual_replies set message_id = $2 where id = $1', [id, messageId]);
}

/** The server may have the message without having confirmed it: this key never sends again. */
export async function markManualReplyUnknown(db: Queryable, id: string): Promise<void> {
  await db.query(`update manual_replies set status = 'unknown' where id = $1`, [id]);
}

/**
 * The server took the message: the manual email on the lead's timeline, in the thread it
 * answers, and the reservation turned `sent` with the answer a repeat gets.
 */
export async function recordManualReply(
  db: Db,
  args: {
    id: string;
    workspaceId: string;
    leadId: string;
    threadId: string | null;
    text: string;
    details: Record<string, unknown>;
    actor: string;
    at: Date;
    answer: (activityId: string) => Record<string, unknown>;
  },
): Promise<Record<string, unknown>> {
  return db.transaction(async (tx) => {
    const [activity] = await tx.query<{ id: string }>(
      `insert into activities (workspace_id, lead_id, kind, channel, outcome, body, actor, occurred_at, thread_id, details)
       values ($1, $2, 'email', 'email', 'sent', $3, $4, $5, $6, $7) returning id`,
      [args.workspaceId, args.leadId, args.text, args.actor, args.at, args.threadId, JSON.stringify(args.details)],
    );
    const answer = args.answer(activity!.id);
    await tx.query(`update manual_replies set status = 'sent', activity_id = $2, answer = $3 where id = $1`, [args.id, activity!.id, JSON.stringify(answer)]);
    return answer;
  });
}
