-- Custom events in (docs/INTEGRATIONS.md, "Custom events in"): a lead carries the CRM's id for
-- it, so another system can name the lead the way it knows it. Unique per workspace, as the
-- email is: two leads with one CRM id would make an event's target a guess.
alter table leads add column external_id text;
create unique index leads_workspace_external_id on leads (workspace_id, external_id) where external_id is not null;
