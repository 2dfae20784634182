/**
 * The IMAP watcher's rows (docs/MAILBOXES.md, "Checkpoints"): which mailboxes are watched, who
 * watches each (a lease, so one process cluster-wide holds a mailbox's connection), and how far
 * each INBOX has been read (UIDVALIDITY and the highest UID whose event is recorded).
 */
import type { Queryable } from './db.ts';
import type { ServerSettings } from './mailboxes.ts';

export interface WatchedMailbox {
  id: string;
  workspaceId: string;
  name: string;
  fromEmail: string;
  imap: ServerSettings;
  imapPasswordSealed: string;
  /** The mailbox's zone, else its workspace's: the days a return date is read in. */
  zone: string;
  createdAt: Date;
  /** Changes when the mailbox is edited: a watcher on older settings reconnects. */
  updatedAt: Date;
}

/** Every mailbox with IMAP settings and a password, in every workspace. */
export async function watchedMailboxes(db: Queryable): Promise<WatchedMailbox[]> {
  return db.query<WatchedMailbox>(
    `select m.id, m.workspace_id as "workspaceId", m.name, m.from_email as "fromEmail", m.imap,
            m.imap_password_sealed as "imapPasswordSealed", coalesce(m.timezone, w.timezone) as zone,
            m.created_at as "createdAt", m.updated_at as "updatedAt"
       from mailboxes m join workspaces w on w.id = m.workspace_id
      where m.imap is not null and m.imap_password_sealed is not null
      order by m.id`,
  );
}

/**
 * Takes or renews the watch of every watched mailbox that is free, expired or already `owner`'s,
 * until `until`; answers the mailbox ids `owner` now holds. Two processes asking at once: each
 * row's update re-checks its condition under the row lock, so one of them gets it.
 */
export async function takeInboxLeases(db: Queryable, args: { owner: string; until: Date; now: Date }): Promise<string[]> {
  await db.query(
    `insert into mailbox_inbox_state (mailbox_id, updated_at)
     select id, $1 from mailboxes where imap is not null and imap_password_sealed is not null
     on conflict (mailbox_id) do nothing`,
    [args.now],
  );
  const rows = await db.query<{ mailboxId: string }>(
    `update mailbox_inbox_state s set watcher = $1, lease_until = $2
       from mailboxes m
      where m.id = s.mailbox_id and m.imap is not null and m.imap_password_sealed is not null
        and (s.watcher is null or s.watcher = $1 or s.lease_until is null or s.lease_until <= $3)
      returning s.mailbox_id as "mailboxId"`,
    [args.owner, args.until, args.now],
  );
  return rows.map((r) => r.mailboxId).sort();
}

/** Gives up `owner`'s watches (all, or the listed mailboxes'): another process may take them at once. */
export async function releaseInboxLeases(db: Queryable, owner: string, mailboxIds?: string[]): Promise<void> {
  await db.query(
    `update mailbox_inbox_state set watcher = null, lease_until = null
      where watcher = $1 and ($2::uuid[] is null or mailbox_id = any($2::uuid[]))`,
    [owner, mailboxIds ?? null],
  );
}

export interface InboxCheckpoint {
  uidValidity: number | null;
  lastUid: number;
  /** The server's INTERNALDATE of the last message read (a renumbered INBOX is re-read from a day before it). */
  lastInternalDate: Date | null;
}

export async function readCheckpoint(db: Queryable, mailboxId: string): Promise<InboxCheckpoint> {
  const [row] = await db.query<{ uidValidity: string | null; lastUid: string; lastInternalDate: Date | null }>(
    `select uid_validity::text as "uidValidity", last_uid::text as "lastUid", last_internal_date as "lastInternalDate"
       from mailbox_inbox_state where mailbox_id = $1`,
    [mailboxId],
  );
  return {
    uidValidity: row?.uidValidity == null ? null : Number(row.uidValidity),
    lastUid: row ? Number(row.lastUid) : 0,
    lastInternalDate: row?.lastInternalDate ?? null,
  };
}

/**
 * Moves the checkpoint on, only while `owner` still holds the watch; answers whether it did (no:
 * another process took the mailbox over, and this watcher must stop).
 */
export async function advanceCheckpoint(
  db: Queryable,
  args: { mailboxId: string; owner: string; uidValidity: number; lastUid: number; lastInternalDate?: Date | null; now: Date },
): Promise<boolean> {
  const rows = await db.query(
    `update mailbox_inbox_state set uid_validity = $3, last_uid = $4, updated_at = $5,
            last_internal_date = coalesce($6, last_internal_date)
      where mailbox_id = $1 and watcher = $2 returning mailbox_id`,
    [args.mailboxId, args.owner, args.uidValidity, args.lastUid, args.now, args.lastInternalDate ?? null],
  );
  return rows.length > 0;
}

/** A catch-up ran to its end (`error` null) or failed: what the health of the watch shows. */
export async function recordInboxCheck(db: Queryable, args: { mailboxId: string; owner: string; now: Date; error: string | null }): Promise<void> {
  await db.query(
    `update mailbox_inbox_state set checked_at = case when $4::text is null then $3 else checked_at end, last_error = $4
      where mailbox_id = $1 and watcher = $2`,
    [args.mailboxId, args.owner, args.now, args.error],
  );
}

export interface InboxHealth {
  mailboxId: string;
  watcher: string | null;
  leaseUntil: Date | null;
  uidValidity: number | null;
  lastUid: number;
  checkedAt: Date | null;
  lastError: string | null;
}

export async function inboxHealth(db: Queryable, mailboxIds: string[]): Promise<InboxHealth[]> {
  const rows = await db.query<Omit<InboxHealth, 'uidValidity' | 'lastUid'> & { uidValidity: string | null; lastUid: string }>(
    `select mailbox_id as "mailboxId", watcher, lease_until as "leaseUntil", uid_validity::text as "uidValidity",
            last_uid::text as "lastUid", checked_at as "checkedAt", last_error as "lastError"
       from mailbox_inbox_state where mailbox_id = any($1::uuid[]) order by mailbox_id`,
    [mailboxIds],
  );
  return rows.map((r) => ({ ...r, uidValidity: r.uidValidity == null ? null : Number(r.uidValidity), lastUid: Number(r.lastUid) }));
}
