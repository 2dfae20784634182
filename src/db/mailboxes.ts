/**
 * Mailboxes (docs/MAILBOXES.md): the rows, today's counts, and the one write the send path
 * needs — choose each send's mailbox, count it against the mailbox's local day and write the
 * send's intent, in one transaction under the mailbox rows' locks, so two workers can never
 * both take a mailbox's last slot of the day.
 */
import { chooseMailbox, limitOn, mailboxDay, type MailboxStanding, type Warmup } from '../core/mailboxLimits.ts';
import { withSenderDomain } from '../core/threads.ts';
import type { Db, Queryable } from './db.ts';
import { writeIntents, type IntentRequest } from './executions.ts';

export interface ServerSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  /** IMAP only: the authserv-id of the server's `Authentication-Results` (default: the IMAP host). */
  authservId?: string;
}

export interface MailboxRecord {
  id: string;
  workspaceId: string;
  name: string;
  fromEmail: string;
  fromName: string | null;
  smtp: ServerSettings;
  imap: ServerSettings | null;
  /** Sealed (src/secrets/keyRing.ts): never leaves the server. */
  smtpPasswordSealed: string;
  imapPasswordSealed: string | null;
  dailyLimit: number;
  minGapSeconds: number;
  warmup: Warmup | null;
  warmupStartedOn: string | null;
  timezone: string | null;
  /** The member it belongs to (migration 029); null: the team's. */
  ownerId: string | null;
  lastSendAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, workspace_id as "workspaceId", name, from_email as "fromEmail", from_name as "fromName", smtp, imap,
  smtp_password_sealed as "smtpPasswordSealed", imap_password_sealed as "imapPasswordSealed", daily_limit as "dailyLimit",
  min_gap_seconds as "minGapSeconds", warmup, to_char(warmup_started_on, 'YYYY-MM-DD') as "warmupStartedOn", timezone,
  owner_id as "ownerId", last_send_at as "lastSendAt", created_at as "createdAt", updated_at as "updatedAt"`;

export interface NewMailbox {
  id: string;
  name: string;
  fromEmail: string;
  fromName?: string | null;
  smtp: ServerSettings;
  smtpPasswordSealed: string;
  imap?: ServerSettings | null;
  imapPasswordSealed?: string | null;
  dailyLimit: number;
  minGapSeconds: number;
  warmup?: Warmup | null;
  warmupStartedOn?: string | null;
  timezone?: string | null;
  ownerId?: string | null;
}

export class DuplicateMailboxError extends Error {}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

/** The id is chosen by the caller: it is bound into the sealed passwords (their context). */
export async function createMailbox(db: Queryable, workspaceId: string, m: NewMailbox, now: Date): Promise<MailboxRecord> {
  try {
    const [row] = await db.query<MailboxRecord>(
      `insert into mailboxes (id, workspace_id, name, from_email, from_name, smtp, smtp_password_sealed, imap, imap_password_sealed,
         daily_limit, min_gap_seconds, warmup, warmup_started_on, timezone, created_at, updated_at, owner_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)
       returning ${COLUMNS}`,
      [
        m.id, workspaceId, m.name, m.fromEmail, m.fromName ?? null, JSON.stringify(m.smtp), m.smtpPasswordSealed,
        m.imap ? JSON.stringify(m.imap) : null, m.imapPasswordSealed ?? null, m.dailyLimit, m.minGapSeconds,
        m.warmup ? JSON.stringify(m.warmup) : null, m.warmupStartedOn ?? null, m.timezone ?? null, now.toISOString(), m.ownerId ?? null,
      ],
    );
    return row!;
  } catch (error) {
    if (isUniqueViolation(error)) throw new DuplicateMailboxError(`A mailbox sending from ${m.fromEmail} already exists in this workspace.`);
    throw error;
  }
}

export async function listMailboxes(db: Queryable, workspaceId: string): Promise<MailboxRecord[]> {
  return db.query<MailboxRecord>(`select ${COLUMNS} from mailboxes where workspace_id = $1 order by created_at, id`, [workspaceId]);
}

export async function getMailbox(db: Queryable, workspaceId: string, id: string): Promise<MailboxRecord | undefined> {
  const [row] = await db.query<MailboxRecord>(`select ${COLUMNS} from mailboxes where workspace_id = $1 and id = $2`, [workspaceId, id]);
  return row;
}

/** The ids among `ids` that are this workspace's mailboxes. */
export async function existingMailboxIds(db: Queryable, workspaceId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query<{ id: string }>('select id from mailboxes where workspace_id = $1 and id = any($2::uuid[])', [workspaceId, ids]);
  return new Set(rows.map((r) => r.id));
}

/** Replaces the mailbox's fields (the caller merged the patch); answers undefined when it is gone. */
export async function updateMailbox(db: Queryable, workspaceId: string, m: NewMailbox, now: Date): Promise<MailboxRecord | undefined> {
  try {
    const [row] = await db.query<MailboxRecord>(
      `update mailboxes set name = $3, from_email = $4, from_name = $5, smtp = $6, smtp_password_sealed = $7, imap = $8,
         imap_password_sealed = $9, daily_limit = $10, min_gap_seconds = $11, warmup = $12, warmup_started_on = $13, timezone = $14,
         updated_at = $15, owner_id = $16
       where workspace_id = $2 and id = $1
       returning ${COLUMNS}`,
      [
        m.id, workspaceId, m.name, m.fromEmail, m.fromName ?? null, JSON.stringify(m.smtp), m.smtpPasswordSealed,
        m.imap ? JSON.stringify(m.imap) : null, m.imapPasswordSealed ?? null, m.dailyLimit, m.minGapSeconds,
        m.warmup ? JSON.stringify(m.warmup) : null, m.warmupStartedOn ?? null, m.timezone ?? null, now.toISOString(), m.ownerId ?? null,
      ],
    );
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) throw new DuplicateMailboxError(`A mailbox sending from ${m.fromEmail} already exists in this workspace.`);
    throw error;
  }
}

export async function deleteMailbox(db: Queryable, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db.query('delete from mailboxes where workspace_id = $1 and id = $2 returning id', [workspaceId, id]);
  return rows.length > 0;
}

/** Sends counted per mailbox on the given local days. */
export async function sentOn(db: Queryable, days: Array<{ mailboxId: string; day: string }>): Promise<Map<string, number>> {
  if (days.length === 0) return new Map();
  const rows = await db.query<{ mailboxId: string; sent: number }>(
    `select c.mailbox_id as "mailboxId", c.sent from mailbox_day_counts c
     join unnest($1::uuid[], $2::date[]) as d(mailbox_id, day) on d.mailbox_id = c.mailbox_id and d.day = c.day`,
    [days.map((d) => d.mailboxId), days.map((d) => d.day)],
  );
  return new Map(rows.map((r) => [r.mailboxId, r.sent]));
}

/** The additional data a mailbox's sealed password is bound to: it opens on no other row or field. */
export function mailboxSecretContext(mailboxId: string, server: 'smtp' | 'imap'): string {
  return `mailbox:${mailboxId}:${server}`;
}

/** The zone a mailbox's day is counted in: its own, else its workspace's. */
export function mailboxZone(mailbox: Pick<MailboxRecord, 'timezone'>, workspaceZone: string): string {
  return mailbox.timezone ?? workspaceZone;
}

/** One send that must go through a mailbox: its intent, and the mailboxes it may use. */
export interface MailboxIntentRequest {
  intent: IntentRequest;
  /** The sequence's mailboxes, in its order. */
  mailboxIds: string[];
  workspaceZone: string;
}

export type MailboxIntentAnswer =
  /**
   * The intent is written and the send counted: send it through `mailbox`, with `messageId`
   * (the intent's, re-anchored in the mailbox's domain, as stored) when the send has one.
   */
  | { kind: 'intent'; id: string; attempts: number; mailbox: MailboxRecord; messageId?: string }
  /** No mailbox may send now; nothing was written. */
  | { kind: 'wait'; until: Date; cause: 'limit' | 'gap'; reason: string; mailboxId: string }
  /** None of the sequence's mailboxes exists any more. */
  | { kind: 'no_mailbox' };

/**
 * For each request, in order: the mailbox that sends (the enrollment's own once it has one;
 * else the lead owner's mailbox when it may send now; else, rotating, the one with the fewest
 * sends today that has room and whose gap has passed),
 * its intent, its count for its local day, its last send and the enrollment's stickiness — all
 * in one transaction under the mailbox rows' locks (taken in id order). An enrollment missing
 * from the answer must not be sent to (a pause, a cancel, a take-over came first), and its send
 * was not counted.
 */
export async function writeMailboxIntents(db: Db, requests: MailboxIntentRequest[]): Promise<Map<string, MailboxIntentAnswer>> {
  if (requests.length === 0) return new Map();
  return db.transaction(async (tx) => {
    const allIds = [...new Set(requests.flatMap((r) => r.mailboxIds))].sort();
    const enrollmentIds = requests.map((r) => r.intent.identity.enrollmentId);
    const mailboxes = new Map(
      (
        await tx.query<MailboxRecord>(
          `select ${COLUMNS} from mailboxes where id = any($1::uuid[]) and workspace_id = any($2::uuid[]) order by id for update`,
          [allIds, [...new Set(requests.map((r) => r.intent.identity.workspaceId))]],
        )
      ).map((m) => [m.id, m]),
    );
    // The enrollment's own mailbox, and its lead's owner (whose mailbox a first email prefers):
    // one read by primary keys, as before the owner was asked.
    const enrollmentRows = await tx.query<{ id: string; mailboxId: string | null; ownerId: string | null }>(
      `select e.id, e.mailbox_id as "mailboxId", l.owner_id as "ownerId" from enrollments e left join leads l on l.id = e.lead_id where e.id = any($1::uuid[])`,
      [enrollmentIds],
    );
    const stuck = new Map(enrollmentRows.map((r) => [r.id, r.mailboxId]));
    const leadOwner = new Map(enrollmentRows.map((r) => [r.id, r.ownerId]));
    // Each mailbox's day as of each request's `now` (a batch shares one now in practice).
    const standings = new Map<string, MailboxStanding & { day: string }>();
    const now = requests[0]!.intent.now;
    const zoneOf = new Map(requests.flatMap((r) => r.mailboxIds.map((id) => [id, r.workspaceZone] as const)));
    for (const m of mailboxes.values()) {
      const { day, end } = mailboxDay(now, mailboxZone(m, zoneOf.get(m.id)!));
      standings.set(m.id, {
        id: m.id,
        name: m.name,
        day,
        dayEnd: end,
        limit: limitOn(m.dailyLimit, day, m.warmup, m.warmupStartedOn),
        sentToday: 0,
        lastSendAt: m.lastSendAt,
        minGapSeconds: m.minGapSeconds,
      });
    }
    const counted = await sentOn(tx, [...standings.values()].map((s) => ({ mailboxId: s.id, day: s.day })));
    for (const [id, sent] of counted) standings.get(id)!.sentToday = sent;

    const answers = new Map<string, MailboxIntentAnswer>();
    const chosen: Array<{ request: MailboxIntentRequest; mailboxId: string }> = [];
    // Sends of this batch already waiting for a mailbox's gap: the next one waits a gap longer,
    // so a queue spreads out instead of coming due together again.
    const queued = new Map<string, number>();
    for (const request of requests) {
      const enrollmentId = request.intent.identity.enrollmentId;
      const own = stuck.get(enrollmentId);
      // Another workspace's mailbox never sends for this one, whatever a definition names.
      const usable = (id: string) => mailboxes.get(id)?.workspaceId === request.intent.identity.workspaceId;
      const ids = own && usable(own) ? [own] : request.mailboxIds.filter(usable);
      if (ids.length === 0) {
        answers.set(enrollmentId, { kind: 'no_mailbox' });
        continue;
      }
      // A first email goes from the lead owner's mailbox among the sequence's when it may send
      // now (Outreach and Salesloft send as the lead's owner); else the rotation decides.
      const ownerId = own ? null : leadOwner.get(enrollmentId);
      const theirs = ownerId ? ids.filter((id) => mailboxes.get(id)!.ownerId === ownerId) : [];
      const preferred = theirs.length > 0 ? chooseMailbox(theirs.map((id) => standings.get(id)!), request.intent.now) : undefined;
      const choice = preferred?.kind === 'send' ? preferred : chooseMailbox(ids.map((id) => standings.get(id)!), request.intent.now);
      if (choice.kind === 'wait') {
        if (choice.cause === 'gap') {
          const ahead = queued.get(choice.mailboxId) ?? 0;
          queued.set(choice.mailboxId, ahead + 1);
          const gapMs = standings.get(choice.mailboxId)!.minGapSeconds * 1000;
          answers.set(enrollmentId, { ...choice, until: new Date(choice.until.getTime() + ahead * gapMs) });
        } else answers.set(enrollmentId, choice);
        continue;
      }
      // Counted here so the next request of the batch sees it; undone below if no intent is written.
      const standing = standings.get(choice.mailboxId)!;
      standing.sentToday += 1;
      standing.lastSendAt = request.intent.now;
      chosen.push({ request, mailboxId: choice.mailboxId });
    }
    // The Message-ID was made before the mailbox was known: anchor it in the mailbox's domain
    // now, before the intent stores it, so what is stored is what goes out.
    const messageIds = new Map<string, string>();
    const intents = await writeIntents(
      tx,
      chosen.map(({ request: { intent }, mailboxId }) => {
        const mailbox = mailboxes.get(mailboxId)!;
        // Who sent it, kept with the send: the timeline still names the sender after the mailbox is deleted.
        const metadata = { ...intent.metadata, mailboxId, from: { email: mailbox.fromEmail, name: mailbox.fromName, mailboxName: mailbox.name } };
        const made = intent.rendered.messageId;
        if (typeof made !== 'string' || made === '') return { ...intent, metadata };
        const messageId = withSenderDomain(made, mailbox.fromEmail);
        messageIds.set(intent.identity.enrollmentId, messageId);
        return { ...intent, rendered: { ...intent.rendered, messageId }, metadata };
      }),
    );
    const sends = chosen.filter((c) => intents.has(c.request.intent.identity.enrollmentId));
    if (sends.length > 0) {
      await tx.query(
        `insert into mailbox_day_counts as c (mailbox_id, day, sent)
         select mailbox_id, day, count(*)::int from unnest($1::uuid[], $2::date[]) as s(mailbox_id, day) group by mailbox_id, day
         on conflict (mailbox_id, day) do update set sent = c.sent + excluded.sent`,
        [sends.map((s) => s.mailboxId), sends.map((s) => standings.get(s.mailboxId)!.day)],
      );
      await tx.query(
        `update mailboxes m set last_send_at = greatest(coalesce(m.last_send_at, s.at), s.at)
         from (select mailbox_id, max(at) as at from unnest($1::uuid[], $2::timestamptz[]) as u(mailbox_id, at) group by mailbox_id) s
         where m.id = s.mailbox_id`,
        [sends.map((s) => s.mailboxId), sends.map((s) => s.request.intent.now.toISOString())],
      );
      await tx.query(
        `update enrollments e set mailbox_id = s.mailbox_id
         from unnest($1::uuid[], $2::uuid[]) as s(enrollment_id, mailbox_id)
         where e.id = s.enrollment_id and e.mailbox_id is null`,
        [sends.map((s) => s.request.intent.identity.enrollmentId), sends.map((s) => s.mailboxId)],
      );
    }
    for (const { request, mailboxId } of sends) {
      const enrollmentId = request.intent.identity.enrollmentId;
      const intent = intents.get(enrollmentId)!;
      const messageId = messageIds.get(enrollmentId);
      answers.set(enrollmentId, { kind: 'intent', id: intent.id, attempts: intent.attempts, mailbox: mailboxes.get(mailboxId)!, ...(messageId ? { messageId } : {}) });
    }
    return answers;
  });
}

/**
 * The mailbox account emails go out through (docs/ACCOUNTS.md, "Account emails"): the oldest
 * mailbox of the first workspace in `workspaceIds` (in that order) that has one.
 */
export async function accountMailbox(db: Queryable, workspaceIds: string[]): Promise<MailboxRecord | undefined> {
  if (workspaceIds.length === 0) return undefined;
  const [row] = await db.query<MailboxRecord>(
    `select ${COLUMNS} from mailboxes where id = (
       select m.id from mailboxes m join unnest($1::uuid[]) with ordinality as w(workspace_id, n) on w.workspace_id = m.workspace_id
       order by w.n, m.created_at, m.id limit 1)`,
    [workspaceIds],
  );
  return row;
}

/** Whether any workspace has a mailbox: then account emails may go out whatever the delivery mode. */
export async function anyMailboxExists(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ found: boolean }>('select exists (select 1 from mailboxes) as found');
  return row?.found ?? false;
}
