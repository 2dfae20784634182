-- Touchpoint schema, version 1. Migrations are append-only: never edit a released file,
-- add the next number instead.

create table workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  timezone text not null default 'America/New_York',
  created_at timestamptz not null default now()
);

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  name text not null,
  role text not null check (role in ('viewer', 'operator', 'admin')),
  -- sha256 of the token; the token itself is shown once and never stored.
  token_hash text not null unique,
  -- The first characters of the token, so an operator can tell tokens apart in a list.
  prefix text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_tokens_workspace on api_tokens (workspace_id);

create table leads (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  email text,
  phone text,
  timezone text,
  first_name text,
  last_name text,
  company text,
  title text,
  status text not null default 'new',
  custom_fields jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index leads_workspace_email on leads (workspace_id, lower(email)) where email is not null;
create index leads_workspace_created on leads (workspace_id, created_at desc, id desc);
create index leads_workspace_phone on leads (workspace_id, phone) where phone is not null;

create table suppressions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  channel text not null check (channel in ('email', 'sms', 'voice')),
  -- A normalised address: lower-cased email or an E.164 number.
  address text not null,
  reason text not null,
  source text not null,
  created_at timestamptz not null default now(),
  unique (workspace_id, channel, address)
);

create table sequences (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  name text not null,
  status text not null default 'draft' check (status in ('draft', 'active', 'paused', 'archived')),
  current_version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index sequences_workspace on sequences (workspace_id, created_at desc);

create table sequence_versions (
  sequence_id uuid not null references sequences(id) on delete cascade,
  version int not null,
  definition jsonb not null,
  created_at timestamptz not null default now(),
  primary key (sequence_id, version)
);

create table enrollments (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  sequence_id uuid not null references sequences(id) on delete cascade,
  sequence_version int not null,
  lead_id uuid not null references leads(id) on delete cascade,
  status text not null check (status in
    ('active', 'paused', 'waiting', 'completed', 'cancelled', 'converted', 'exited', 'failed')),
  status_reason text,
  -- Why a `waiting` enrollment waits: 'task' (an operator outcome) or 'branch' (an event or timeout).
  waiting_for text,
  current_step_id text,
  -- Counts every step entered; with the step id it names one visit of a step (loops revisit).
  step_seq int not null default 0,
  step_entered_at timestamptz not null,
  attempts int not null default 0,
  -- When the dispatcher should next look at this enrollment. A claim pushes it forward by the
  -- lease, so a crashed worker's enrollment comes due again when the lease runs out.
  next_execution_at timestamptz,
  lease_id uuid,
  -- An event arrived while the enrollment was leased: run it again as soon as the lease ends.
  wake_requested boolean not null default false,
  enrolled_at timestamptz not null,
  updated_at timestamptz not null,
  finished_at timestamptz
);
-- The dispatcher's only read path: due rows, in due order. Work per tick grows with what is due.
create index enrollments_due on enrollments (next_execution_at)
  where status in ('active', 'waiting') and next_execution_at is not null;
create unique index enrollments_one_live_per_lead on enrollments (sequence_id, lead_id)
  where status in ('active', 'paused', 'waiting');
create index enrollments_lead on enrollments (lead_id);
create index enrollments_sequence_status on enrollments (sequence_id, status);

create table sequence_executions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  enrollment_id uuid not null references enrollments(id) on delete cascade,
  lead_id uuid not null,
  sequence_id uuid not null,
  step_id text not null,
  step_type text not null,
  channel text,
  visit int not null,
  -- enrollment id + step id + visit number: at most one execution per visit of a step.
  idempotency_key text not null unique,
  status text not null check (status in
    ('started', 'succeeded', 'failed', 'skipped', 'unknown', 'retry_scheduled')),
  attempts int not null default 1,
  adapter text,
  provider_message_id text,
  error_code text,
  error_message text,
  rendered jsonb,
  metadata jsonb not null default '{}',
  started_at timestamptz not null,
  completed_at timestamptz
);
create index sequence_executions_enrollment on sequence_executions (enrollment_id, started_at);
create index sequence_executions_lead on sequence_executions (lead_id, started_at desc);
create index sequence_executions_provider_message on sequence_executions (provider_message_id)
  where provider_message_id is not null;
create index sequence_executions_open on sequence_executions (status) where status in ('started', 'unknown');

create table events (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  lead_id uuid references leads(id) on delete cascade,
  enrollment_id uuid references enrollments(id) on delete set null,
  execution_id uuid references sequence_executions(id) on delete set null,
  step_id text,
  type text not null,
  channel text,
  provider text not null,
  provider_event_id text unique,
  occurred_at timestamptz not null,
  received_at timestamptz not null,
  data jsonb not null default '{}'
);
create index events_enrollment on events (enrollment_id, type);
create index events_lead on events (lead_id, occurred_at desc);

create table activities (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  lead_id uuid not null references leads(id) on delete cascade,
  kind text not null check (kind in ('note', 'call', 'email', 'sms', 'meeting', 'task')),
  outcome text,
  body text,
  actor text not null,
  occurred_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index activities_lead on activities (lead_id, occurred_at desc);

create table enrollment_changes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  enrollment_id uuid not null references enrollments(id) on delete cascade,
  lead_id uuid not null,
  actor text not null,
  action text not null,
  from_status text,
  to_status text not null,
  reason text,
  at timestamptz not null
);
create index enrollment_changes_lead on enrollment_changes (lead_id, at desc);
create index enrollment_changes_enrollment on enrollment_changes (enrollment_id, at);

-- What the mock adapters "sent", one row per adapter call, so tests and demos can count sends
-- across processes. Deliberately not unique: a duplicate send must be visible, not hidden.
create table mock_outbox (
  id bigserial primary key,
  channel text not null,
  idempotency_key text not null,
  execution_id uuid,
  recipient text not null,
  provider_message_id text not null,
  payload jsonb not null,
  sent_at timestamptz not null default now()
);
create index mock_outbox_key on mock_outbox (idempotency_key);
