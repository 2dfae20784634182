-- Fewer index entries per step and per enrollment (docs/BENCHMARKS.md, "Changes").
--
-- A move between steps due at once was never a HOT update: it changed `step_entered_at`
-- (a key of the task inbox's index) and renewed the lease in `next_execution_at` (the due
-- index). The inbox is now keyed on when the visit began to wait, a column a move leaves as it
-- is (null), and engine_apply_steps keeps the lease while half of it is left; `fillfactor`
-- leaves room on each page for the new row version. Such a move now writes no index entry.
alter table enrollments add column waiting_since timestamptz;
update enrollments set waiting_since = step_entered_at where status = 'waiting' and waiting_for is not null;
drop index enrollments_waiting;
create index enrollments_waiting on enrollments (workspace_id, waiting_since, id)
  where status = 'waiting' and waiting_for is not null;
alter table enrollments set (fillfactor = 60);

-- Served by others: live rows of a sequence by enrollments_one_live_per_lead (its predicate is
-- the live statuses), counts per status by enrollments_sequence_page.
drop index enrollments_sequence_status;

-- The workspace of an enrollment and of its audit rows is the workspace of its sequence; a
-- workspace's deletion still reaches them through sequences → enrollments → changes. Two
-- foreign-key checks fewer per enrollment.
alter table enrollments drop constraint enrollments_workspace_id_fkey;
alter table enrollment_changes drop constraint enrollment_changes_workspace_id_fkey;

-- An execution is one visit of a step: (enrollment, step, visit) is the unique key, an index of
-- fixed-width columns that also serves "the executions of an enrollment", instead of a unique
-- index on the text `idempotency_key` (~80 bytes a key) plus one on (enrollment_id, started_at).
-- The key text stays as a column: adapters hand it to providers.
create unique index sequence_executions_visit on sequence_executions (enrollment_id, step_id, visit);
alter table sequence_executions drop constraint sequence_executions_idempotency_key_key;
drop index sequence_executions_enrollment;

-- Time-ordered ids where the server has them (PostgreSQL 18, which PGlite is): new rows land
-- at the right edge of the primary key instead of on a random leaf. Older servers keep
-- random ids; nothing depends on the order.
do $$
begin
  if exists (select 1 from pg_proc where proname = 'uuidv7' and pronargs = 0) then
    alter table enrollments alter column id set default uuidv7();
    alter table enrollment_changes alter column id set default uuidv7();
    alter table sequence_executions alter column id set default uuidv7();
  end if;
end
$$;

-- engine_run_contexts and engine_write_intents of 004, finding an execution by its visit.
create or replace function engine_run_contexts(p_ids uuid[]) returns setof json
language plpgsql stable as $$
begin
  return query
  select json_build_object(
    'enrollment', row_to_json(e),
    'lead', json_build_object('id', l.id, 'email', l.email, 'phone', l.phone, 'timezone', l.timezone,
      'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company, 'title', l.title,
      'customFields', l.custom_fields),
    'workspaceZone', w.timezone,
    'facts', (
      select coalesce(json_agg(json_build_object('type', f.type, 'at', f.at, 'stepId', f.step_id, 'outcome', f.outcome) order by f.at), '[]')
      from (
        select ev.type, least(ev.occurred_at, ev.received_at) as at, ev.step_id, ev.data->>'outcome' as outcome
        from events ev
        where (ev.enrollment_id = e.id or (ev.lead_id = e.lead_id and ev.enrollment_id is null)) and ev.received_at >= e.enrolled_at
      ) f),
    'suppressed', (
      select coalesce(json_agg(s.channel), '[]')
      from suppressions s
      where s.workspace_id = e.workspace_id
        and ((s.channel = 'email' and s.address = lower(l.email)) or (s.channel in ('sms', 'voice') and s.address = l.phone))),
    'execution', (
      select row_to_json(x)
      from sequence_executions x
      where e.current_step_id is not null
        and x.enrollment_id = e.id and x.step_id = e.current_step_id and x.visit = e.step_seq))
  from enrollments e
  join leads l on l.id = e.lead_id
  join workspaces w on w.id = e.workspace_id
  where e.id = any(p_ids);
end
$$;

-- The intents of a batch, in one transaction: each enrollment is locked (in id order, so two
-- batches never wait on each other in a cycle) and re-checked — still live, still under the
-- caller's lease — before its `started` row is written or its scheduled retry revived. An
-- enrollment missing from the answer must not be sent to: a pause, a cancel or a take-over won.
create or replace function engine_write_intents(p_intents jsonb)
returns table (enrollment_id uuid, id uuid, attempts int)
language plpgsql as $$
#variable_conflict use_column
declare
  -- The rows to lock, found through the primary key whatever the planner guesses of the input.
  v_ids uuid[] := array(select (r->>'enrollment_id')::uuid from jsonb_array_elements(p_intents) r);
begin
  return query
  with input as (
    select * from jsonb_to_recordset(p_intents) as i(
      enrollment_id uuid, lease_id uuid, workspace_id uuid, lead_id uuid, sequence_id uuid, step_id text, step_type text,
      channel text, visit int, adapter text, rendered jsonb, metadata jsonb, now timestamptz)
  ), live as (
    select e.id from enrollments e join input i on i.enrollment_id = e.id
    where e.id = any(v_ids) and e.lease_id = i.lease_id and e.status in ('active', 'waiting')
    order by e.id
    for update of e
  )
  insert into sequence_executions as x (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel,
    visit, idempotency_key, status, attempts, adapter, rendered, metadata, started_at)
  select i.workspace_id, i.enrollment_id, i.lead_id, i.sequence_id, i.step_id, i.step_type, i.channel,
    i.visit, i.enrollment_id::text || ':' || i.step_id || ':' || i.visit::text, 'started', 1, i.adapter, i.rendered,
    coalesce(i.metadata, '{}'), i.now
  from input i join live on live.id = i.enrollment_id
  on conflict (enrollment_id, step_id, visit) do update set status = 'started', attempts = x.attempts + 1,
    adapter = excluded.adapter, rendered = excluded.rendered, started_at = excluded.started_at,
    error_code = null, error_message = null
  where x.status = 'retry_scheduled'
  returning x.enrollment_id, x.id, x.attempts;
end
$$;

-- engine_apply_steps of 004, with the lease kept on a run of steps, `waiting_since`, and the
-- visit as the conflict target.
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
      exec_kind text, exec_id uuid, exec_status text, provider_message_id text, error_code text, error_message text,
      exec_metadata jsonb, rendered jsonb, adapter text,
      workspace_id uuid, lead_id uuid, sequence_id uuid, step_id text, step_type text, channel text, visit int,
      kind text, next_step_id text, next_at timestamptz, keep_lease boolean, finish_status text, action text,
      reason text, wait_for text, attempts int)
  ), answered as (
    -- An adapter's answer; reconciles an execution already declared unknown (as engine_complete_execution).
    update sequence_executions x set status = i.exec_status,
      provider_message_id = coalesce(i.provider_message_id, x.provider_message_id),
      error_code = i.error_code, error_message = i.error_message, metadata = x.metadata || coalesce(i.exec_metadata, '{}'),
      completed_at = case when i.exec_status = 'retry_scheduled' then null else i.now end
    from input i
    where i.exec_kind = 'complete' and x.id = i.exec_id and x.status in ('started', 'unknown')
  ), gone_unknown as (
    -- An adapter that threw: we cannot know whether the provider took it (as markUnknown).
    update sequence_executions x set status = 'unknown', completed_at = i.now,
      error_message = 'The worker stopped between the intent and the provider''s answer; not resent.'
    from input i
    where i.exec_kind = 'unknown' and x.id = i.exec_id and x.status = 'started'
  ), recorded as (
    -- A step that ran without an adapter call, or failed before one (as recordFinishedExecution).
    insert into sequence_executions (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel,
      visit, idempotency_key, status, attempts, adapter, rendered, metadata, error_code, error_message, started_at, completed_at)
    select i.workspace_id, i.enrollment_id, i.lead_id, i.sequence_id, i.step_id, i.step_type, i.channel,
      i.visit, i.enrollment_id::text || ':' || i.step_id || ':' || i.visit::text, i.exec_status, 1, i.adapter, i.rendered,
      coalesce(i.exec_metadata, '{}'), i.error_code, i.error_message, i.now, i.now
    from input i
    where i.exec_kind = 'record'
    on conflict (enrollment_id, step_id, visit) do nothing
  ), old as (
    select e.id, e.status from enrollments e join input i on i.enrollment_id = e.id
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
      status_reason = case i.kind
        when 'finish' then case when e.status in ('active', 'waiting', 'paused') then i.reason else e.status_reason end
        when 'pause' then i.reason
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
    returning e.id, e.workspace_id, e.lead_id, e.status, old.status as from_status, i.action, i.reason, i.now
  ), audit as (
    insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
    select m.workspace_id, m.id, m.lead_id, 'system', m.action, m.from_status, m.status, m.reason, m.now
    from moved m where m.from_status <> m.status
  )
  select m.id, m.status from moved m;
end
$$;

-- The claim, as a function so its plan is kept per connection like the executor's (see 003):
-- a plain statement is planned on every call, and the dispatcher claims before every round.
create function engine_claim_due(p_now timestamptz, p_limit int, p_lease_until timestamptz, p_lease_id uuid)
returns table (enrollment_id uuid, lease_id uuid, due_at timestamptz)
language plpgsql as $$
#variable_conflict use_column
begin
  return query
  with due as (
    select e.id, e.next_execution_at from enrollments e
    where e.status in ('active', 'waiting') and e.next_execution_at is not null and e.next_execution_at <= p_now
    order by e.next_execution_at
    limit p_limit
    for update skip locked)
  update enrollments e set next_execution_at = p_lease_until, lease_id = p_lease_id
  from due where e.id = due.id
  returning e.id, e.lease_id, due.next_execution_at;
end
$$;
