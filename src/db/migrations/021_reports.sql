-- Reports over time (docs/ANALYTICS.md, "Reports"). A report reads closed days from a daily
-- rollup built once per workspace and day, and the last days live; both come from the same
-- aggregate (src/db/reports.ts), so they cannot disagree.

-- The live days' rows, and the rollup's one-time build, are found by time within a workspace.
create index sequence_executions_workspace_started on sequence_executions (workspace_id, started_at);
create index events_workspace_received on events (workspace_id, received_at);

-- One row per workspace, UTC day and dimension combination with something in it. '' stands for
-- "none" in variant, channel and mailbox so the key can be a primary key.
create table report_days (
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
  primary key (workspace_id, day, sequence_id, step_id, variant, channel, mailbox)
);

-- The days whose rollup is built (a day with nothing in it has a marker and no rows).
create table report_days_built (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  day date not null,
  built_at timestamptz not null,
  primary key (workspace_id, day)
);
