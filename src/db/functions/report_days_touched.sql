-- Live text of report_days_touched: this file (docs/ENGINE.md, "Database functions").
-- After each update of `sequence_executions`: an execution whose status or start changed on a
-- day that is closed (before today, UTC) or already rolled up, or in an hour of today that a
-- report may have kept aggregated (report_day_prefixes: the hours that ended five minutes ago
-- or more, src/db/reports.ts PREFIX_CLOSE_AFTER_MS; four here, so a database clock up to a
-- minute behind the servers' still marks them), marks that day (and the day it moved from)
-- dirty in `report_days_dirty`, so the reports build it, or its prefix, again before reading it.
-- Ordinary completions, within minutes of their start, leave nothing behind. The hour test reads
-- the wall clock, not whether a prefix exists, so a prefix being extended right now cannot miss
-- a change. The mark is an upsert that always writes, so it holds the row's lock until its own
-- transaction commits: a builder deleting the mark waits, then reads the change.
create or replace function report_days_touched() returns trigger
language plpgsql as $$
begin
  insert into report_days_dirty (workspace_id, day, marked_at)
  select distinct t.workspace_id, (t.at at time zone 'UTC')::date, now()
  from (
    select n.workspace_id, n.started_at as at
      from new_rows n join old_rows o on o.id = n.id
     where n.status is distinct from o.status or n.started_at is distinct from o.started_at
    union
    select o.workspace_id, o.started_at
      from new_rows n join old_rows o on o.id = n.id
     where n.started_at is distinct from o.started_at
  ) t
  where (t.at at time zone 'UTC')::date < (now() at time zone 'UTC')::date
     or t.at < date_trunc('hour', (clock_timestamp() at time zone 'UTC') - interval '4 minutes') at time zone 'UTC'
     or exists (select 1 from report_days_built b where b.workspace_id = t.workspace_id and b.day = (t.at at time zone 'UTC')::date)
  on conflict (workspace_id, day) do update set marked_at = excluded.marked_at;
  return null;
end
$$;
