-- Live text of engine_complete_execution: this file (docs/ENGINE.md, "Database functions").
-- What the adapter answered for one execution (completeExecution, src/db/executions.ts): the
-- outcome, and an execution already declared `unknown` is reconciled (we now know it went out).
-- Used off the hot path (a provider ledger that says a send never arrived); the batches record
-- answers through engine_apply_steps.
-- `p_attempt`: the attempt the answer is for (null: whichever is recorded). A stalled worker's
-- answer for an earlier attempt changes nothing once another worker has tried again
-- (docs/SIMULATION.md, Findings 4). The seven-argument form it replaces is dropped; a caller
-- that passes seven still resolves here.
drop function if exists engine_complete_execution(uuid, text, text, text, text, jsonb, timestamptz);
create or replace function engine_complete_execution(
  p_id uuid, p_status text, p_provider_message_id text, p_error_code text, p_error_message text, p_metadata jsonb,
  p_now timestamptz, p_attempt int default null)
returns void
language plpgsql as $$
begin
  update sequence_executions set status = p_status, provider_message_id = coalesce(p_provider_message_id, provider_message_id),
    error_code = p_error_code, error_message = p_error_message, metadata = metadata || p_metadata,
    completed_at = case when p_status = 'retry_scheduled' then null else p_now end
  where id = p_id and status in ('started', 'unknown') and attempts = coalesce(p_attempt, attempts);
end
$$;
