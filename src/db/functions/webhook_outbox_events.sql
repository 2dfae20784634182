-- Live text of webhook_outbox_events: this file (docs/ENGINE.md, "Database functions").
-- The outbox for what `events` records (after each insert statement, in its transaction):
-- provider events of the catalogue, custom and meeting events, a call's end with its outcome,
-- and an operator's outcome on a task (`task.completed`). With no enabled endpoint anywhere it
-- stops at one index probe.
create or replace function webhook_outbox_events() returns trigger
language plpgsql as $$
begin
  if not exists (select 1 from webhook_endpoints where enabled) then return null; end if;
  perform webhook_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'workspace_id', t.workspace_id, 'lead_id', t.lead_id, 'type', t.type, 'at', t.received_at,
      'occurred_at', t.occurred_at, 'data', t.data) order by t.received_at, t.id), '[]'))
  from (
    select n.id, n.workspace_id, n.lead_id, n.received_at, n.occurred_at, k.type,
      jsonb_build_object(
        'eventId', n.id, 'lead', webhook_lead_json(l), 'enrollmentId', n.enrollment_id, 'sequenceId', e.sequence_id,
        'executionId', n.execution_id, 'stepId', n.step_id, 'channel', n.channel, 'provider', n.provider,
        'occurredAt', webhook_iso(n.occurred_at))
      || case
           when k.type like 'custom.%' then jsonb_build_object('properties', coalesce(n.data->'properties', '{}'))
           when k.type = 'task.completed' then jsonb_build_object('outcome', n.data->>'outcome', 'note', n.data->>'note', 'actor', n.data->>'actor')
           when k.type = 'call.completed' then jsonb_build_object('details', n.data, 'outcome', case
               when n.data->>'hangupCause' in ('no_answer', 'timeout', 'user_busy', 'call_rejected') then 'no_answer'
               when n.execution_id is null then 'unknown'
               when exists (select 1 from events v where v.enrollment_id = n.enrollment_id and v.execution_id = n.execution_id and v.type = 'call.voicemail') then 'voicemail'
               when exists (select 1 from events v where v.enrollment_id = n.enrollment_id and v.execution_id = n.execution_id and v.type = 'call.no_answer') then 'no_answer'
               when exists (select 1 from events v where v.enrollment_id = n.enrollment_id and v.execution_id = n.execution_id and v.type = 'call.answered') then 'answered'
               else 'unknown' end)
           else jsonb_build_object('details', n.data)
         end as data
    from new_rows n
    left join leads l on l.id = n.lead_id
    left join enrollments e on e.id = n.enrollment_id
    cross join lateral (select case
        when n.type in ('email.delivered', 'email.opened', 'email.clicked', 'email.replied', 'email.bounced', 'email.auto_replied',
                        'sms.delivered', 'sms.replied', 'sms.opted_out', 'call.completed', 'meeting.booked', 'meeting.cancelled')
          or n.type like 'custom.%' then n.type
        when n.type = 'manual.outcome' and e.waiting_for = 'task' then 'task.completed'
      end as type) k
    where k.type is not null
  ) t;
  return null;
end
$$;
