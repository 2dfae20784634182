-- Live text of task_assignee: this file (docs/ENGINE.md, "Database functions").
-- Who a waiting task is for (docs/SEQUENCES.md, "Who a task is for"), one rule for the task
-- inbox (src/db/enrollmentLists.ts) and the task.created payload (src/db/webhookDeliveries.ts):
-- the member whose email the step names as `assignee`, else (`owner`, absent, or a branch that
-- waits for an outcome) the lead's owner. Null: unassigned (no owner, or the named address is
-- no member of the workspace).
create or replace function task_assignee(workspace uuid, definition jsonb, step_id text, lead_owner uuid) returns uuid
language sql stable as $$
  select case when named is null or named = 'owner' then lead_owner
    else (select u.id from users u join memberships m on m.user_id = u.id and m.workspace_id = workspace
          where lower(u.email) = lower(named)) end
  from (select (select st ->> 'assignee' from jsonb_array_elements(definition -> 'steps') st
                where st ->> 'id' = step_id limit 1) as named) s
$$;
