-- Live text of webhook_outbox_sends: this file (docs/ENGINE.md, "Database functions").
-- The outbox for sends (after each insert into, or update of, `sequence_executions`): an email
-- or a text whose execution became `succeeded` — the provider took it — is `email.sent` /
-- `sms.sent`. Calls report `call.completed` from the provider's events instead.
create or replace function webhook_outbox_sends() returns trigger
language plpgsql as $$
declare
  v_sent jsonb;
begin
  if not exists (select 1 from webhook_endpoints where enabled) then return null; end if;
  if tg_op = 'INSERT' then
    select coalesce(jsonb_agg(to_jsonb(n) order by n.started_at, n.id), '[]') into v_sent
    from new_rows n where n.status = 'succeeded' and n.channel in ('email', 'sms');
  else
    select coalesce(jsonb_agg(to_jsonb(n) order by n.started_at, n.id), '[]') into v_sent
    from new_rows n join old_rows o on o.id = n.id
    where n.status = 'succeeded' and o.status <> 'succeeded' and n.channel in ('email', 'sms');
  end if;
  if v_sent = '[]' then return null; end if;
  perform webhook_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'workspace_id', x.workspace_id, 'lead_id', x.lead_id, 'type', x.channel || '.sent',
      'at', coalesce(x.completed_at, x.started_at), 'occurred_at', coalesce(x.completed_at, x.started_at),
      'data', jsonb_build_object(
        'executionId', x.id, 'enrollmentId', x.enrollment_id, 'sequenceId', x.sequence_id, 'stepId', x.step_id,
        'lead', webhook_lead_json(l), 'channel', x.channel, 'providerMessageId', x.provider_message_id,
        'adapter', x.adapter, 'occurredAt', webhook_iso(coalesce(x.completed_at, x.started_at))))
      order by x.started_at, x.id), '[]'))
  from jsonb_populate_recordset(null::sequence_executions, v_sent) as x
  left join leads l on l.id = x.lead_id;
  return null;
end
$$;
