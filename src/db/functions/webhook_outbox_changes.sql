-- Live text of webhook_outbox_changes: this file (docs/ENGINE.md, "Database functions").
-- The outbox for enrollments' audit rows (after each insert into `enrollment_changes`):
-- started, paused, resumed, completed, exited (exited, cancelled, converted or failed: the
-- payload's `status` says which), and `task.created` when an enrollment starts waiting on a
-- task step. A row that changes no status (a deferral) is no event.
create or replace function webhook_outbox_changes() returns trigger
language plpgsql as $$
begin
  if not exists (select 1 from webhook_endpoints where enabled) then return null; end if;
  perform webhook_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'workspace_id', t.workspace_id, 'lead_id', t.lead_id, 'type', t.type, 'at', t.at,
      'occurred_at', t.at, 'data', t.data) order by t.at, t.id), '[]'))
  from (
    select n.id, n.workspace_id, n.lead_id, n.at, k.type,
      jsonb_build_object(
        'enrollmentId', n.enrollment_id, 'sequenceId', e.sequence_id, 'lead', webhook_lead_json(l),
        'status', n.to_status, 'previousStatus', n.from_status, 'reason', n.reason, 'actor', n.actor,
        'occurredAt', webhook_iso(n.at))
      || case when k.type = 'task.created' then jsonb_build_object('stepId', e.current_step_id, 'title',
           (select s->>'title' from sequence_versions v, jsonb_array_elements(v.definition->'steps') s
            where v.sequence_id = e.sequence_id and v.version = e.sequence_version and s->>'id' = e.current_step_id limit 1))
         else '{}'::jsonb end as data
    from new_rows n
    join enrollments e on e.id = n.enrollment_id
    left join leads l on l.id = n.lead_id
    cross join lateral (select case
        when n.action = 'enroll' then 'enrollment.started'
        when n.from_status is not distinct from n.to_status then null
        when n.to_status = 'paused' then 'enrollment.paused'
        when n.from_status = 'paused' and n.to_status in ('active', 'waiting') then 'enrollment.resumed'
        when n.to_status = 'completed' then 'enrollment.completed'
        when n.to_status in ('exited', 'cancelled', 'converted', 'failed') then 'enrollment.exited'
        when n.to_status = 'waiting' and e.waiting_for = 'task' and e.status = 'waiting' then 'task.created'
      end as type) k
    where k.type is not null
  ) t;
  return null;
end
$$;
