-- Live text of webhook_enqueue: this file (docs/ENGINE.md, "Database functions").
-- The outbox's one write (docs/INTEGRATIONS.md, "Webhooks out"): for each event of `p_events`
-- (`[{workspace_id, lead_id, type, at, occurred_at, data}]`, in event order) a delivery to every
-- enabled endpoint of its workspace subscribed to it (`*`, the type, or `<family>.*`), due at
-- `at` (the writer's clock, so an injected clock drives deliveries as it drives steps). Called
-- by the outbox triggers inside the transaction that wrote the event. (plpgsql: its body is
-- checked when first run, so the helpers it calls may be applied after it.)
create or replace function webhook_enqueue(p_events jsonb) returns void
language plpgsql as $$
begin
  insert into webhook_deliveries (workspace_id, endpoint_id, lead_id, message_id, event_type, payload, next_attempt_at, created_at)
  select w.workspace_id, w.id, t.lead_id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), t.type,
         jsonb_build_object('type', t.type, 'timestamp', webhook_iso(t.occurred_at), 'data', t.data),
         t.at, t.at
  from (
    select (e.v->>'workspace_id')::uuid as workspace_id, (e.v->>'lead_id')::uuid as lead_id, e.v->>'type' as type,
           (e.v->>'at')::timestamptz as at, (e.v->>'occurred_at')::timestamptz as occurred_at, e.v->'data' as data, e.ord
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
  ) t
  join webhook_endpoints w on w.workspace_id = t.workspace_id and w.enabled
   and w.events && array['*', t.type, split_part(t.type, '.', 1) || '.*']
  order by t.ord, w.id;
end
$$;
