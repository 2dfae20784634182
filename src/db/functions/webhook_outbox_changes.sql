-- Live text of webhook_outbox_changes: this file (docs/ENGINE.md, "Database functions").
-- The outbox for enrollments' audit rows (after each insert into `enrollment_changes`):
-- started, paused, resumed, completed, exited (exited, cancelled, converted or failed: the
-- payload's `status` says which) — a row that changes no status (a deferral) is no event — and
-- `task.created`, once per visit of a task step (docs/INTEGRATIONS.md, "task.created").
--
-- A task is created when its visit first starts to wait: engine_apply_steps writes that change
-- (active → waiting) with the action `open_task`, decided on the locked row (the visit had not
-- waited yet: `waiting_since` was null; a move, a skip, a retry clear it; a pause, a resume, a
-- wake and an open task's night keep it, src/core/decide.ts). So the fact is read off the row
-- the engine already writes, with no write of its own. The step is the enrollment's current one:
-- the change is a reschedule, which never moves the step, and one statement updates an
-- enrollment once. The title is rendered by the deliverer (Liquid, as the task inbox renders it,
-- src/outbound/taskPayloads.ts): the payload is written with `title` null, filled in before the
-- first post.
create or replace function webhook_outbox_changes() returns trigger
language plpgsql as $$
begin
  if not exists (select 1 from webhook_endpoints where enabled) then return null; end if;
  perform webhook_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'workspace_id', t.workspace_id, 'lead_id', t.lead_id, 'type', t.type, 'at', t.at,
      'occurred_at', t.at, 'data', t.data) order by t.at, t.id, t.rank), '[]'))
  from (
    select n.id, n.workspace_id, n.lead_id, n.at, k.type, k.rank,
      jsonb_build_object(
        'enrollmentId', n.enrollment_id, 'sequenceId', e.sequence_id, 'lead', webhook_lead_json(l),
        'status', n.to_status, 'previousStatus', n.from_status, 'reason', n.reason, 'actor', n.actor,
        'occurredAt', webhook_iso(n.at))
      || case when k.type = 'task.created' then jsonb_build_object('stepId', e.current_step_id,
           'sequenceVersion', e.sequence_version, 'title', null, 'description', null)
         else '{}'::jsonb end as data
    from new_rows n
    join enrollments e on e.id = n.enrollment_id
    left join leads l on l.id = n.lead_id
    cross join lateral (values
      (1, case
        when n.action = 'enroll' then 'enrollment.started'
        when n.from_status is not distinct from n.to_status then null
        when n.to_status = 'paused' then 'enrollment.paused'
        when n.from_status = 'paused' and n.to_status in ('active', 'waiting') then 'enrollment.resumed'
        when n.to_status = 'completed' then 'enrollment.completed'
        when n.to_status in ('exited', 'cancelled', 'converted', 'failed') then 'enrollment.exited'
      end),
      (2, case
        when n.action = 'open_task' and e.current_step_id is not null then 'task.created'
      end)) k(rank, type)
    where k.type is not null
  ) t;
  return null;
end
$$;
