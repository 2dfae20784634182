-- Live text of engine_write_intents: this file (docs/ENGINE.md, "Database functions").
-- The intents of a batch, in one transaction: each enrollment is locked (in id order, so two
-- batches never wait on each other in a cycle) and re-checked — still live, still under the
-- caller's lease, and the address the message goes to (`recipient`) not suppressed on its
-- channel — before its `started` row is written or its scheduled retry revived. An
-- enrollment missing from the answer must not be sent to: a pause, a cancel, a take-over or a
-- suppression won (docs/ENGINE.md, "One delivery step"; docs/SIMULATION.md, Findings 7).
-- The rows are locked by a statement of their own first: under READ COMMITTED each statement of
-- this (volatile) function takes a fresh snapshot, so the statement that checks the suppressions
-- starts after any wait for a lock and sees what the holder committed — an opt-out's ingest
-- locks the lead's live enrollments after writing its suppression (src/engine/ingest.ts). In one
-- statement the suppressions would be read from the snapshot taken before the wait.
-- The idempotency key is `enrollment:step:visit` (idempotencyKeyOf in src/db/executions.ts
-- is the same format; test/integration/formats.test.ts proves they agree).
create or replace function engine_write_intents(p_intents jsonb)
returns table (enrollment_id uuid, id uuid, attempts int)
language plpgsql as $$
#variable_conflict use_column
declare
  -- The rows to lock, found through the primary key whatever the planner guesses of the input.
  v_ids uuid[] := array(select (r->>'enrollment_id')::uuid from jsonb_array_elements(p_intents) r);
begin
  perform 1 from enrollments e join jsonb_to_recordset(p_intents) as i(enrollment_id uuid, lease_id uuid) on i.enrollment_id = e.id
  where e.id = any(v_ids) and e.lease_id = i.lease_id and e.status in ('active', 'waiting')
  order by e.id
  for update of e;
  return query
  with input as (
    select * from jsonb_to_recordset(p_intents) as i(
      enrollment_id uuid, lease_id uuid, workspace_id uuid, lead_id uuid, sequence_id uuid, step_id text, step_type text,
      channel text, visit int, adapter text, rendered jsonb, metadata jsonb, now timestamptz, variant text, recipient text)
  ), live as (
    select e.id from enrollments e join input i on i.enrollment_id = e.id
    where e.id = any(v_ids) and e.lease_id = i.lease_id and e.status in ('active', 'waiting')
      -- The suppression match of engine_run_contexts (an email lower-cased, or its '@domain'; a
      -- phone as stored), on the address the message goes to: the decision read the
      -- suppressions before this lock, and an opt-out may have committed since.
      and not exists (
        select 1 from suppressions s
        where s.workspace_id = i.workspace_id and s.channel = i.channel
          and s.address in (
            case when i.channel = 'email' then lower(i.recipient) else i.recipient end,
            case when i.channel = 'email' then '@' || split_part(lower(i.recipient), '@', 2) end))
    order by e.id
    for update of e
  )
  insert into sequence_executions as x (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel,
    visit, idempotency_key, status, attempts, adapter, rendered, metadata, started_at, variant, owner_id)
  select i.workspace_id, i.enrollment_id, i.lead_id, i.sequence_id, i.step_id, i.step_type, i.channel,
    i.visit, i.enrollment_id::text || ':' || i.step_id || ':' || i.visit::text, 'started', 1, i.adapter, i.rendered,
    coalesce(i.metadata, '{}'), i.now, i.variant,
    -- The lead's owner as the message is written (docs/ANALYTICS.md, "Owner: who gets the credit").
    (select l.owner_id from leads l where l.id = i.lead_id)
  from input i join live on live.id = i.enrollment_id
  on conflict (enrollment_id, step_id, visit) do update set status = 'started', attempts = x.attempts + 1,
    adapter = excluded.adapter, rendered = excluded.rendered, started_at = excluded.started_at,
    -- The new attempt's own send deadline (docs/ENGINE.md, "Crashes: at most once") replaces the last one's.
    metadata = x.metadata || excluded.metadata,
    error_code = null, error_message = null,
    -- A retry sends the variant its first attempt was assigned (docs/SEQUENCES.md, "A/B variants").
    variant = coalesce(x.variant, excluded.variant)
    -- …and stays its first attempt's owner's (owner_id is not updated), like its variant.
  where x.status = 'retry_scheduled'
  returning x.enrollment_id, x.id, x.attempts;
end
$$;
