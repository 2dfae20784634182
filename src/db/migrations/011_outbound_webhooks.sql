-- Outbound webhooks (issue 18, docs/INTEGRATIONS.md "Webhooks out").
--
-- An endpoint is a workspace's subscriber URL, the events it wants and its signing secret
-- (Standard Webhooks `whsec_…`; stored because signing is symmetric, shown once by the API).
-- A rotated secret keeps signing beside the new one until `previous_secret_expires_at`.
create table webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  url text not null,
  description text not null default '',
  -- Catalogue types, `<family>.*` (`email.*`, `custom.*`), one custom type, or `*`.
  events text[] not null,
  enabled boolean not null default true,
  -- Why it is off: `operator`, `gone` (the receiver answered 410) or `failing` (a day of failures).
  disabled_reason text check (disabled_reason in ('operator', 'gone', 'failing')),
  disabled_at timestamptz,
  secret text not null,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- The first failed attempt since the last success; a day of it disables the endpoint.
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_workspace on webhook_endpoints (workspace_id, created_at, id);
-- What the outbox triggers probe first: with no enabled endpoint anywhere they stop there.
create index webhook_endpoints_enabled on webhook_endpoints (workspace_id) where enabled;

-- One row per (event, endpoint): the outbox and the delivery log at once. Written by the
-- triggers below in the transaction of the event itself, so a crash loses nothing.
create table webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  -- Insertion order: a lead's deliveries to one endpoint go out in this order.
  seq bigserial not null,
  workspace_id uuid not null,
  endpoint_id uuid not null references webhook_endpoints(id) on delete cascade,
  lead_id uuid,
  -- The `webhook-id` header: the same across retries and replays of one event to one endpoint.
  message_id text not null,
  event_type text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts int not null default 0,
  -- When a pending delivery is next tried; a claim pushes it forward by the lease, so a
  -- deliverer that dies mid-post leaves it due again once the lease runs out.
  next_attempt_at timestamptz,
  lease_id uuid,
  last_attempt_at timestamptz,
  last_status_code int,
  last_response text,
  last_error text,
  last_latency_ms int,
  delivered_at timestamptz,
  replay_of uuid,
  created_at timestamptz not null default now()
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_lead_order on webhook_deliveries (endpoint_id, lead_id, seq) where status = 'pending';
create index webhook_deliveries_log on webhook_deliveries (endpoint_id, created_at desc, id desc);

-- The outbox triggers. Their live text is in src/db/functions/webhook_outbox_*.sql (applied
-- right after the migrations); these placeholders only let the triggers be created here.
create function webhook_outbox_events() returns trigger language plpgsql as $$ begin return null; end $$;
create function webhook_outbox_changes() returns trigger language plpgsql as $$ begin return null; end $$;
create function webhook_outbox_sends() returns trigger language plpgsql as $$ begin return null; end $$;
create function webhook_outbox_leads() returns trigger language plpgsql as $$ begin return null; end $$;

-- Statement-level, with transition tables: one probe per statement, however many rows it wrote.
create trigger events_webhook_outbox after insert on events
  referencing new table as new_rows for each statement execute function webhook_outbox_events();
create trigger enrollment_changes_webhook_outbox after insert on enrollment_changes
  referencing new table as new_rows for each statement execute function webhook_outbox_changes();
create trigger sequence_executions_webhook_outbox_insert after insert on sequence_executions
  referencing new table as new_rows for each statement execute function webhook_outbox_sends();
create trigger sequence_executions_webhook_outbox_update after update on sequence_executions
  referencing old table as old_rows new table as new_rows for each statement execute function webhook_outbox_sends();
create trigger leads_webhook_outbox after update on leads
  referencing old table as old_rows new table as new_rows for each statement execute function webhook_outbox_leads();
-- Enrolling many leads at once turns off foreign-key triggers for one statement
-- (`session_replication_role = replica`, src/db/enrollments.ts); the outbox must still fire.
alter table enrollment_changes enable always trigger enrollment_changes_webhook_outbox;
