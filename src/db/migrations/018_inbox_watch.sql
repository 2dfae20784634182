-- Reading replies, bounces and auto-replies from each mailbox's INBOX over IMAP
-- (docs/MAILBOXES.md, "Replies, bounces and auto-replies").
--
-- One row per watched mailbox: the checkpoint (the INBOX's UIDVALIDITY and the highest UID
-- read and ingested), advanced only after a message's event is recorded, so a disconnect or a
-- restart resumes after the last message counted; and the watcher's lease (who watches it
-- until when), so one process cluster-wide holds the mailbox's IMAP connection.
create table mailbox_inbox_state (
  mailbox_id uuid primary key references mailboxes(id) on delete cascade,
  uid_validity bigint,
  last_uid bigint not null default 0,
  -- The IMAP server's INTERNALDATE of that message: a renumbered INBOX (new UIDVALIDITY) is
  -- re-read from a day before it, by the server's own clock.
  last_internal_date timestamptz,
  watcher text,
  lease_until timestamptz,
  -- The last time the watcher looked (a catch-up ran to its end) and the last failure, for health.
  checked_at timestamptz,
  last_error text,
  updated_at timestamptz not null
);

-- An out-of-office note pauses the lead's enrollments until the day it says its writer is back
-- (status paused, status_reason 'auto_reply'); the inbox service resumes them then.
alter table enrollments add column paused_until timestamptz;
create index enrollments_auto_reply_pauses on enrollments (paused_until) where paused_until is not null and status = 'paused';
