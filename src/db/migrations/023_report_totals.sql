-- Reports, second pass (docs/ANALYTICS.md, "Reports"): conversions and meetings in the rollup,
-- a coarser rollup per day, sequence and channel for the reports that need no finer key, and
-- the closed days a late change touched, rebuilt before they are read again.

-- The rollup is a cache of the rows: emptied here so every day is built again with the two new
-- measures (the next report, or the worker's upkeep, builds them).
delete from report_days;
delete from report_days_built;
alter table report_days add column converted int not null default 0;
alter table report_days add column meeting_booked int not null default 0;

-- The same figures summed over step, variant and mailbox: what the day, week, sequence and
-- channel reports read (a few hundred rows a year per sequence instead of thousands).
create table report_day_totals (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  day date not null,
  sequence_id uuid not null,
  channel text not null,
  reached int not null default 0,
  sent int not null default 0,
  failed int not null default 0,
  skipped int not null default 0,
  delivered int not null default 0,
  opened int not null default 0,
  clicked int not null default 0,
  replied int not null default 0,
  bounced int not null default 0,
  opted_out int not null default 0,
  converted int not null default 0,
  meeting_booked int not null default 0,
  primary key (workspace_id, day, sequence_id, channel)
);

-- Built days whose rows changed after they were built (an execution's status or start moved):
-- the next build of the day deletes its rollup rows and builds them again.
create table report_days_dirty (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  day date not null,
  marked_at timestamptz not null,
  primary key (workspace_id, day)
);

-- Conversions of a period: few rows, found by when they happened.
create index enrollments_converted_at on enrollments (workspace_id, (coalesce(finished_at, updated_at)))
  where status = 'converted' or status_reason = 'converted';
-- Meetings booked in a period: a handful among a workspace's events.
create index events_meetings_received on events (workspace_id, received_at) where type = 'meeting.booked';

-- The trigger that marks those days. Its live text is src/db/functions/report_days_touched.sql
-- (applied right after the migrations); this placeholder only lets the trigger be created here.
create function report_days_touched() returns trigger language plpgsql as $$ begin return null; end $$;
-- Statement-level, with transition tables: one probe per statement, however many rows it wrote.
create trigger sequence_executions_report_days after update on sequence_executions
  referencing old table as old_rows new table as new_rows for each statement execute function report_days_touched();
