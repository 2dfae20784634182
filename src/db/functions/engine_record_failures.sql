-- Live text of engine_record_failures: this file (docs/ENGINE.md, "Database functions").
-- The failed attempts of a batch, in one transaction, each fenced by the caller's lease: the
-- count goes up; under the cap the enrollment comes back at `retry_at` (the executor's backoff),
-- at the cap it is `failed` with the error as its reason and an audit row that carries it (the
-- lead's timeline shows it). `failedAttempt` and the `fail` change of src/core/transitions.ts
-- say the same; test/integration/transitions.test.ts proves they agree. An adapter's answer
-- that came before the failure is still recorded (as engine_apply_steps does): a send that
-- happened is never forgotten.
create or replace function engine_record_failures(p_failures jsonb)
returns table (enrollment_id uuid, status text, failures int)
language plpgsql as $$
#variable_conflict use_column
declare
  v_ids uuid[] := array(select (r->>'enrollment_id')::uuid from jsonb_array_elements(p_failures) r);
begin
  return query
  with input as materialized (
    select * from jsonb_to_recordset(p_failures) as i(
      enrollment_id uuid, lease_id uuid, now timestamptz, reason text, retry_at timestamptz, cap int,
      exec_kind text, exec_id uuid, exec_status text, provider_message_id text, error_code text, error_message text,
      exec_metadata jsonb)
  ), answered as (
    update sequence_executions x set status = i.exec_status,
      provider_message_id = coalesce(i.provider_message_id, x.provider_message_id),
      error_code = i.error_code, error_message = i.error_message, metadata = x.metadata || coalesce(i.exec_metadata, '{}'),
      completed_at = case when i.exec_status = 'retry_scheduled' then null else i.now end
    from input i
    where i.exec_kind = 'complete' and x.id = i.exec_id and x.status in ('started', 'unknown')
  ), gone_unknown as (
    update sequence_executions x set status = 'unknown', completed_at = i.now,
      error_message = 'The worker stopped between the intent and the provider''s answer; not resent.'
    from input i
    where i.exec_kind = 'unknown' and x.id = i.exec_id and x.status = 'started'
  ), old as (
    select e.id, e.status from enrollments e join input i on i.enrollment_id = e.id
    where e.id = any(v_ids) and e.lease_id = i.lease_id and e.status in ('active', 'waiting', 'paused')
    order by e.id
    for update of e
  ), counted as (
    update enrollments e set
      consecutive_failures = e.consecutive_failures + 1,
      status = case when e.consecutive_failures + 1 >= i.cap then 'failed' else e.status end,
      status_reason = case when e.consecutive_failures + 1 >= i.cap then i.reason else e.status_reason end,
      finished_at = case when e.consecutive_failures + 1 >= i.cap then i.now else e.finished_at end,
      next_execution_at = case when e.consecutive_failures + 1 >= i.cap then null else i.retry_at end,
      lease_id = null,
      wake_requested = false,
      updated_at = i.now
    from old join input i on i.enrollment_id = old.id
    where e.id = old.id
    returning e.id, e.workspace_id, e.lead_id, e.status, old.status as from_status, e.consecutive_failures, i.reason, i.now
  ), audit as (
    insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
    select c.workspace_id, c.id, c.lead_id, 'system', 'fail', c.from_status, c.status, c.reason, c.now
    from counted c where c.from_status <> c.status
  )
  select c.id, c.status, c.consecutive_failures from counted c;
end
$$;
