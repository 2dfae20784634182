-- Issue 20: an operator answers a lead's reply from the Replies inbox, through the mailbox that
-- sent the thread (docs/MAILBOXES.md, "Answering a reply by hand").

-- The answer lands on the lead's timeline as a manual email activity in the thread it answers:
-- `thread_id` is the thread's root Message-ID (as the timeline computes it for executions), and
-- `details` what went out (subject, text, Message-ID, In-Reply-To, References, the mailbox's From).
alter table activities add column thread_id text;
alter table activities add column details jsonb;

-- One row per answer asked for: the audit (who, when, which reply, through which mailbox) and the
-- double-click guard. `idempotency_key` is the client's, or one the server derives from the reply
-- and the words. `sending` while the SMTP session runs; `sent` keeps the answer a repeat gets;
-- `unknown` when the server may have taken it without confirming (never sent again by this key).
-- A definite failure deletes its row: nothing was sent.
create table manual_replies (
  id uuid primary key,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  reply_event_id uuid not null references events(id) on delete cascade,
  lead_id uuid references leads(id) on delete cascade,
  mailbox_id uuid references mailboxes(id) on delete set null,
  idempotency_key text not null,
  actor text not null,
  status text not null check (status in ('sending', 'sent', 'unknown')),
  message_id text not null,
  activity_id uuid references activities(id) on delete set null,
  answer jsonb,
  created_at timestamptz not null,
  unique (workspace_id, idempotency_key)
);
create index manual_replies_event on manual_replies (reply_event_id);
