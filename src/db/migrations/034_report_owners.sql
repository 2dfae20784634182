-- Reports grouped by owner (docs/ANALYTICS.md, "Reports", "Owner: who gets the credit").
--
-- A message belongs to the member who owned the lead when it was written: the lead's owner is
-- stamped on the execution in the statement that inserts it (engine_write_intents,
-- engine_apply_steps, recordFinishedExecution), so reassigning a lead later does not move last
-- month's figures. No foreign key: the stamp is history, and a deleted account's messages stay
-- under its id (labelled by id) rather than being rewritten to "(no owner)".
alter table sequence_executions add column owner_id uuid;

-- Executions written before this migration: the lead's owner now (the only one known; owners
-- came with migration 029, so the history before it is short). Unowned leads' rows stay null.
-- The report_days_touched trigger marks nothing here (neither status nor start changes), and the
-- rollups are emptied below anyway.
update sequence_executions x set owner_id = l.owner_id
  from leads l
 where l.id = x.lead_id and l.owner_id is not null;

-- The rollups are a cache of the rows: emptied here and built again (the upkeep after the
-- upgrade, or the first report of a period), as migration 023 did, so every built day has its
-- owners' rows (and the corrected `reached`).
delete from report_days;
delete from report_days_built;
delete from report_day_totals;
delete from report_days_dirty;
delete from report_day_prefixes;
delete from report_day_prefixes_built;

-- The figures per day, sequence, channel and owner ('' = the lead had no owner): what owner
-- reports, and reports filtered by owner, read. A rollup of its own rather than one more key in
-- report_days, which would multiply the step, variant and mailbox reports' rows by the number of
-- reps sending each day.
create table report_day_owners (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  day date not null,
  sequence_id uuid not null,
  channel text not null,
  owner text not null,
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
  primary key (workspace_id, day, sequence_id, channel, owner)
);

-- Today's kept hours carry every dimension, the owner too (a day's rows: small).
alter table report_day_prefixes add column owner text not null default '';
alter table report_day_prefixes drop constraint report_day_prefixes_pkey;
alter table report_day_prefixes add primary key (workspace_id, day, sequence_id, step_id, variant, channel, mailbox, owner);
