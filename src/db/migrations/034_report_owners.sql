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

-- The rollups gain the owner key ('' = no owner, as for variant, channel and mailbox). They are a
-- cache of the rows: emptied here and built again with the owner (the upkeep after the upgrade,
-- or the first report of a period), as migration 023 did.
delete from report_days;
delete from report_days_built;
delete from report_day_totals;
delete from report_days_dirty;
delete from report_day_prefixes;
delete from report_day_prefixes_built;

alter table report_days add column owner text not null default '';
alter table report_days drop constraint report_days_pkey;
alter table report_days add primary key (workspace_id, day, sequence_id, step_id, variant, channel, mailbox, owner);

alter table report_day_prefixes add column owner text not null default '';
alter table report_day_prefixes drop constraint report_day_prefixes_pkey;
alter table report_day_prefixes add primary key (workspace_id, day, sequence_id, step_id, variant, channel, mailbox, owner);
