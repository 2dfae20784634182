-- Live text of engine_apply_steps: this file (docs/ENGINE.md, "Database functions").
-- The end of a step for a batch, in one transaction (src/db/stepEnds.ts): what each adapter
-- answered, and where each enrollment goes next, fenced by the caller's lease, with an audit
-- row for every change of status. The status CASE below is the table `statusAfterStepEnd` of
-- src/core/transitions.ts in SQL, the status_reason CASE `reasonAfterStepEnd`;
-- test/integration/transitions.test.ts proves they agree.
-- The idempotency key is `enrollment:step:visit`, as idempotencyKeyOf (src/db/executions.ts).
-- A run of steps due at once keeps the lease while half of it is left, so the move changes no
-- indexed column and is a HOT update (docs/ENGINE.md, "Claims and leases").
create or replace function engine_apply_steps(p_steps jsonb)
returns table (enrollment_id uuid, status text)
language plpgsql as $$
#variable_conflict use_column
declare
  v_ids uuid[] := array(select (r->>'enrollment_id')::uuid from jsonb_array_elements(p_steps) r);
begin
  return query
  with input as materialized (
    select * from jsonb_to_recordset(p_steps) as i(
      enrollment_id uuid, lease_id uuid, now timestamptz,
      exec_kind text, exec_id uuid, exec_attempt int, exec_status text, provider_message_id text, error_code text, error_message text,
      exec_metadata jsonb, rendered jsonb, adapter text,
      workspace_id uuid, lead_id uuid, sequence_id uuid, step_id text, step_type text, channel text, visit int,
      kind text, next_step_id text, next_at timestamptz, keep_lease boolean, finish_status text, action text,
      reason text, wait_for text, attempts int)
  ), answered as (
    -- An adapter's answer; reconciles an execution already declared unknown (as engine_complete_execution).
    -- Only for the attempt it answers: a stalled worker's answer for an earlier attempt must not
    -- overwrite what a later one (another worker's, after a take-over) recorded.
    update sequence_executions x set status = i.exec_status,
      provider_message_id = coalesce(i.provider_message_id, x.provider_message_id),
      error_code = i.error_code, error_message = i.error_message, metadata = x.metadata || coalesce(i.exec_metadata, '{}'),
      completed_at = case when i.exec_status = 'retry_scheduled' then null else i.now end
    from input i
    where i.exec_kind = 'complete' and x.id = i.exec_id and x.status in ('started', 'unknown')
      and x.attempts = coalesce(i.exec_attempt, x.attempts)
  ), gone_unknown as (
    -- An adapter that threw, or answered that the request may have reached the provider (a
    -- timeout after it was written): we cannot know whether the provider took it (as markUnknown).
    update sequence_executions x set status = 'unknown', completed_at = i.now, error_code = i.error_code,
      error_message = coalesce(i.error_message || '; not resent.', 'The worker stopped between the intent and the provider''s answer; not resent.')
    from input i
    where i.exec_kind = 'unknown' and x.id = i.exec_id and x.status = 'started'
      and x.attempts = coalesce(i.exec_attempt, x.attempts)
  ), recorded as (
    -- A step that ran without an adapter call, or failed before one (as recordFinishedExecution).
    insert into sequence_executions (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel,
      visit, idempotency_key, status, attempts, adapter, rendered, metadata, error_code, error_message, started_at, completed_at, owner_id)
    select i.workspace_id, i.enrollment_id, i.lead_id, i.sequence_id, i.step_id, i.step_type, i.channel,
      i.visit, i.enrollment_id::text || ':' || i.step_id || ':' || i.visit::text, i.exec_status, 1, i.adapter, i.rendered,
      coalesce(i.exec_metadata, '{}'), i.error_code, i.error_message, i.now, i.now,
      -- The lead's owner at this moment (docs/ANALYTICS.md, "Owner: who gets the credit").
      (select l.owner_id from leads l where l.id = i.lead_id)
    from input i
    where i.exec_kind = 'record'
    on conflict (enrollment_id, step_id, visit) do nothing
  ), old as (
    select e.id, e.status, e.waiting_since from enrollments e join input i on i.enrollment_id = e.id
    where e.id = any(v_ids) and e.lease_id = i.lease_id
    order by e.id
    for update of e
  ), moved as (
    update enrollments e set
      status = case i.kind
        when 'move' then case when e.status = 'waiting' then 'active' else e.status end
        when 'finish' then case when e.status in ('active', 'waiting', 'paused') then i.finish_status else e.status end
        when 'reschedule' then case when e.status in ('active', 'waiting')
          then case when i.wait_for is null then 'active' else 'waiting' end else e.status end
        when 'pause' then case when e.status in ('active', 'waiting') then 'paused' else e.status end
      end,
      -- The reason goes with the status: an end that leaves the status alone (an operator paused,
      -- converted or cancelled it, or an exit rule ended it, while its send was in flight) leaves
      -- the reason for it alone too (`reasonAfterStepEnd`).
      status_reason = case i.kind
        when 'finish' then case when e.status in ('active', 'waiting', 'paused') then i.reason else e.status_reason end
        when 'pause' then case when e.status in ('active', 'waiting') then i.reason else e.status_reason end
        else e.status_reason
      end,
      finished_at = case when i.kind = 'finish' and e.status in ('active', 'waiting', 'paused') then i.now else e.finished_at end,
      current_step_id = case
        when i.kind = 'move' then i.next_step_id
        when i.kind = 'finish' and i.finish_status = 'completed' then null
        else e.current_step_id
      end,
      step_seq = case when i.kind = 'move' then e.step_seq + 1 else e.step_seq end,
      step_entered_at = case when i.kind = 'move' then i.now else e.step_entered_at end,
      attempts = case i.kind when 'move' then 0 when 'reschedule' then coalesce(i.attempts, e.attempts) else e.attempts end,
      waiting_for = case i.kind when 'reschedule' then i.wait_for when 'pause' then e.waiting_for else null end,
      -- When this visit began to wait; kept through a pause, cleared by a move.
      waiting_since = case i.kind
        when 'reschedule' then case when i.wait_for is null then null else coalesce(e.waiting_since, i.now) end
        when 'move' then null
        else e.waiting_since
      end,
      next_execution_at = case i.kind
        when 'move' then case
          when e.wake_requested then least(i.next_at, i.now)
          -- A run of steps due at once keeps the lease it has while at least half of it is
          -- left: no indexed column changes, so the move is a HOT update (no index entries).
          when i.keep_lease and e.next_execution_at >= i.now + (i.next_at - i.now) / 2 then e.next_execution_at
          else i.next_at
        end
        when 'reschedule' then case when e.wake_requested then i.now else i.next_at end
        else null
      end,
      lease_id = case when i.kind = 'move' and i.keep_lease then e.lease_id end,
      wake_requested = false,
      updated_at = i.now
    from old join input i on i.enrollment_id = old.id
    where e.id = old.id
    returning e.id, e.workspace_id, e.lead_id, e.status, old.status as from_status,
      -- The first wait of a task's visit opens the task (`open_task`, which webhook_outbox_changes
      -- turns into task.created); waiting on it again after a resume keeps `wait_for_task`.
      case when i.kind = 'reschedule' and i.wait_for = 'task' and old.waiting_since is null then 'open_task' else i.action end as action,
      i.reason, i.now
  ), audit as (
    insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
    select m.workspace_id, m.id, m.lead_id, 'system', m.action, m.from_status, m.status, m.reason, m.now
    from moved m where m.from_status <> m.status
  )
  select m.id, m.status from moved m;
end
$$;
