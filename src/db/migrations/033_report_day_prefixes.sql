-- Reports, third pass (docs/ANALYTICS.md, "Reports"): the live day's closed hours are kept
-- aggregated, so a report reads at most the last hour or so of rows live instead of a whole day.

-- The aggregate of a live day's rows from its midnight to `until` (a whole hour, closed a few
-- minutes ago), in the rollup's key: extended by the next hour's aggregate, added in, as hours
-- close; dropped when the day is built into report_days.
create table report_day_prefixes (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  day date not null,
  sequence_id uuid not null,
  step_id text not null,
  variant text not null,
  channel text not null,
  mailbox text not null,
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
  primary key (workspace_id, day, sequence_id, step_id, variant, channel, mailbox)
);

-- How far each live day's prefix reaches. Its row is locked while the prefix is extended, so two
-- builders never add the same hour twice; a change to an execution of a closed hour marks the
-- day in report_days_dirty (src/db/functions/report_days_touched.sql) and the next report
-- builds the prefix again from midnight.
create table report_day_prefixes_built (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  day date not null,
  until timestamptz not null,
  primary key (workspace_id, day)
);
