-- Live text of webhook_lead_json: this file (docs/ENGINE.md, "Database functions").
-- The lead as every outbound webhook payload names it (LeadRef in src/core/webhookCatalogue.ts);
-- null for a row of nulls (an event about no lead).
create or replace function webhook_lead_json(l leads) returns jsonb
language sql stable as $$
  select case when l.id is null then null else jsonb_build_object(
    'id', l.id, 'email', l.email, 'phone', l.phone, 'externalId', l.external_id,
    'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company) end
$$;
