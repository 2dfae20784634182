-- The executor's per-step reads and writes as PL/pgSQL functions. A plain statement sent with
-- parameters is parsed and planned on every call (neither PGlite nor node-postgres keeps a
-- prepared statement for it), and for these small statements planning costs more than running:
-- 0.5 ms of planning against 0.1 ms of execution for the run context on PGlite. A PL/pgSQL
-- function plans each statement inside it once per connection and reuses the plan, so a call
-- costs a round trip and the execution only. Each function is exactly the statement it
-- replaces (see src/engine/context.ts, src/db/events.ts, src/db/executions.ts).
-- `#variable_conflict use_column`: a name that is both a column and an OUT parameter (id,
-- attempts) means the column.

-- Everything the executor reads before it decides one step, in one round trip: the enrollment
-- row (snake_case, as stored), its lead, its workspace's zone, the facts (its events and
-- lead-level events since it enrolled), the suppressed channels of the lead's addresses, and the
-- execution row of the current visit of the current step, if one was written.
create function engine_run_context(p_enrollment_id uuid) returns json
language plpgsql stable as $$
#variable_conflict use_column
declare
  result json;
begin
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
        and x.idempotency_key = e.id::text || ':' || e.current_step_id || ':' || e.step_seq::text))
  into result
  from enrollments e
  join leads l on l.id = e.lead_id
  join workspaces w on w.id = e.workspace_id
  where e.id = p_enrollment_id;
  return result;
end
$$;

-- loadFacts (src/db/events.ts).
create function engine_load_facts(p_enrollment_id uuid, p_lead_id uuid, p_since timestamptz)
returns table (type text, at timestamptz, "stepId" text, outcome text)
language plpgsql stable as $$
#variable_conflict use_column
begin
  return query
    select ev.type, least(ev.occurred_at, ev.received_at), ev.step_id, ev.data->>'outcome'
    from events ev
    where (ev.enrollment_id = p_enrollment_id or (ev.lead_id = p_lead_id and ev.enrollment_id is null))
      and ev.received_at >= p_since
    order by 2;
end
$$;

-- suppressedChannels (src/db/events.ts).
create function engine_suppressed_channels(p_workspace_id uuid, p_email text, p_phone text)
returns table (channel text)
language plpgsql stable as $$
#variable_conflict use_column
begin
  return query
    select s.channel from suppressions s
    where s.workspace_id = p_workspace_id
      and ((s.channel = 'email' and s.address = lower(p_email)) or (s.channel in ('sms', 'voice') and s.address = p_phone));
end
$$;

-- writeIntent (src/db/executions.ts): a new `started` row, or a scheduled retry turned back
-- into `started`; no row when the visit exists in any other state.
create function engine_write_intent(
  p_workspace_id uuid, p_enrollment_id uuid, p_lead_id uuid, p_sequence_id uuid, p_step_id text, p_step_type text,
  p_channel text, p_visit int, p_idempotency_key text, p_adapter text, p_rendered jsonb, p_metadata jsonb, p_now timestamptz)
returns table (id uuid, attempts int)
language plpgsql as $$
#variable_conflict use_column
begin
  return query
    insert into sequence_executions as x (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel,
      visit, idempotency_key, status, attempts, adapter, rendered, metadata, started_at)
    values (p_workspace_id, p_enrollment_id, p_lead_id, p_sequence_id, p_step_id, p_step_type, p_channel,
      p_visit, p_idempotency_key, 'started', 1, p_adapter, p_rendered, p_metadata, p_now)
    on conflict (idempotency_key) do update set status = 'started', attempts = x.attempts + 1,
      adapter = excluded.adapter, rendered = excluded.rendered, started_at = excluded.started_at,
      error_code = null, error_message = null
    where x.status = 'retry_scheduled'
    returning x.id, x.attempts;
end
$$;

-- completeExecution (src/db/executions.ts): what the adapter answered; reconciles an execution
-- already declared `unknown`.
create function engine_complete_execution(
  p_id uuid, p_status text, p_provider_message_id text, p_error_code text, p_error_message text, p_metadata jsonb,
  p_now timestamptz)
returns void
language plpgsql as $$
begin
  update sequence_executions set status = p_status, provider_message_id = coalesce(p_provider_message_id, provider_message_id),
    error_code = p_error_code, error_message = p_error_message, metadata = metadata || p_metadata,
    completed_at = case when p_status = 'retry_scheduled' then null else p_now end
  where id = p_id and status in ('started', 'unknown');
end
$$;

-- findExecutionByKey (src/db/executions.ts).
create function engine_find_execution(p_idempotency_key text) returns setof sequence_executions
language plpgsql stable as $$
begin
  return query select * from sequence_executions where idempotency_key = p_idempotency_key;
end
$$;
