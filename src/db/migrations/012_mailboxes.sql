-- Mailboxes (docs/MAILBOXES.md): a workspace sends from its reps' own SMTP accounts. Passwords
-- are stored sealed (AES-256-GCM, src/secrets/keyRing.ts), never in the clear; the settings
-- beside them are plain jsonb ({host, port, secure, user}). `imap` is stored now for the reply
-- watcher that reads the same mailbox.
create table mailboxes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  name text not null,
  from_email text not null,
  from_name text,
  smtp jsonb not null,
  smtp_password_sealed text not null,
  imap jsonb,
  imap_password_sealed text,
  daily_limit int not null check (daily_limit >= 0),
  -- Seconds between two sends of this mailbox: sends are spread, not fired at 09:00 at once.
  min_gap_seconds int not null default 0 check (min_gap_seconds >= 0),
  -- {startLimit, days}: the limit ramps from startLimit to daily_limit from warmup_started_on on.
  warmup jsonb,
  warmup_started_on date,
  -- The day boundary's zone; null = the workspace's.
  timezone text,
  last_send_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index mailboxes_workspace_from on mailboxes (workspace_id, lower(from_email));

-- Sends per mailbox per local day of its zone, counted in the transaction that writes the
-- send's intent, under the mailbox row's lock: every worker sees one count.
create table mailbox_day_counts (
  mailbox_id uuid not null references mailboxes(id) on delete cascade,
  day date not null,
  sent int not null default 0,
  primary key (mailbox_id, day)
);

-- The mailbox that sent the enrollment's first email: its thread never changes sender.
alter table enrollments add column mailbox_id uuid references mailboxes(id) on delete set null;

-- Per-workspace provider accounts (SendGrid, Postmark, Telnyx); the environment stays the
-- single-tenant default. `settings` holds what is not secret, `secret_sealed` the credential.
create table provider_connections (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  provider text not null check (provider in ('sendgrid', 'postmark', 'telnyx')),
  settings jsonb not null default '{}',
  secret_sealed text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (workspace_id, provider)
);
