-- Live text of webhook_outbox_leads: this file (docs/ENGINE.md, "Database functions").
-- The outbox for leads (after each update): a lead whose status became `converted` is
-- `lead.converted`, whichever way it got there (an enrollment or the lead converted).
create or replace function webhook_outbox_leads() returns trigger
language plpgsql as $$
begin
  if not exists (select 1 from webhook_endpoints where enabled) then return null; end if;
  perform webhook_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'workspace_id', n.workspace_id, 'lead_id', n.id, 'type', 'lead.converted', 'at', n.updated_at,
      'occurred_at', n.updated_at, 'data', jsonb_build_object(
        'lead', webhook_lead_json(l), 'previousStatus', o.status, 'occurredAt', webhook_iso(n.updated_at)))
      order by n.id), '[]'))
  from new_rows n join old_rows o on o.id = n.id join leads l on l.id = n.id
  where n.status = 'converted' and o.status <> 'converted';
  return null;
end
$$;
