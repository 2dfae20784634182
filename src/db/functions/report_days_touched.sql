-- Live text of report_days_touched: this file (docs/ENGINE.md, "Database functions").
-- After each update of `sequence_executions`: an execution whose status or start changed on a
-- day that is closed (before today, UTC) or already rolled up marks that day (and the day it
-- moved from) dirty in `report_days_dirty`, so the reports build it again before reading it
-- (src/db/reports.ts). Ordinary completions, on the day they started, leave nothing behind.
-- The mark is an upsert that always writes, so it holds the row's lock until its own
-- transaction commits: a builder deleting the mark waits, then reads the change.
create or replace function report_days_touched() returns trigger
language plpgsql as $$
begin
  insert into report_days_dirty (workspace_id, day, marked_at)
  select t.workspace_id, t.day, now()
  from (
    select n.workspace_id, (n.started_at at time zone 'UTC')::date as day
      from new_rows n join old_rows o on o.id = n.id
     where n.status is distinct from o.status or n.started_at is distinct from o.started_at
    union
    select o.workspace_id, (o.started_at at time zone 'UTC')::date
      from new_rows n join old_rows o on o.id = n.id
     where n.started_at is distinct from o.started_at
  ) t
  where t.day < (now() at time zone 'UTC')::date
     or exists (select 1 from report_days_built b where b.workspace_id = t.workspace_id and b.day = t.day)
  on conflict (workspace_id, day) do update set marked_at = excluded.marked_at;
  return null;
end
$$;
