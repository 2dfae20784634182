-- Leads and tenants (issue 14; docs/API.md "Lead status", docs/ENGINE.md "Opt-outs and
-- replies across workspaces").
--
-- 1. A lead's `status` is its lifecycle, driven by what happens:
--      new < contacted < replied < bounced < opted_out < converted
--    The engine only ever moves it up (src/core/leadStatus.ts). Free labels written before
--    (e.g. "qualified") are kept as the custom field `status`.
-- 2. A suppression a provider reported (a STOP, a hard bounce, a spam report, a provider-side
--    unsubscribe) belongs to the sender account, so it is written for every workspace that sends
--    through it — today every workspace, as there is one account per process — and a workspace
--    created later inherits it. `sender` records the number or address the opt-out was sent to,
--    when the provider names it. Our own unsubscribe page (`source = 'touchpoint'`) stays in the
--    workspace whose message carried the link.

alter table suppressions add column sender text;

-- The status a lead's history shows. Opt-outs and bounces come from the live suppressions of
-- its addresses (a START that lifted an opt-out is thereby honoured); replies and contacts
-- from its events and sends; a conversion from its enrollments. A lead converted as a whole
-- (POST /api/leads/{id}/convert) keeps no enrollment mark: callers never recompute a
-- converted lead.
create function lead_status_from_history(p_lead_id uuid) returns text
language sql stable as $$
  select case
    when exists (select 1 from enrollments e where e.lead_id = l.id and e.status = 'converted') then 'converted'
    when exists (select 1 from suppressions s where s.workspace_id = l.workspace_id and s.channel = 'email' and s.address = lower(l.email)
                   and s.reason in ('email.unsubscribed', 'email.spam_reported'))
      or exists (select 1 from suppressions s where s.workspace_id = l.workspace_id and s.channel in ('sms', 'voice') and s.address = l.phone
                   and s.reason = 'sms.opted_out') then 'opted_out'
    when exists (select 1 from suppressions s where s.workspace_id = l.workspace_id and s.channel = 'email' and s.address = lower(l.email)
                   and s.reason = 'email.bounced') then 'bounced'
    when exists (select 1 from events ev where ev.lead_id = l.id and ev.type in ('email.replied', 'sms.replied')) then 'replied'
    when exists (select 1 from sequence_executions x where x.lead_id = l.id and x.status = 'succeeded'
                   and x.step_type in ('email', 'sms', 'voice')) then 'contacted'
    else 'new'
  end
  from leads l where l.id = p_lead_id
$$;

update leads set custom_fields = jsonb_build_object('status', status) || custom_fields
where status not in ('new', 'contacted', 'replied', 'bounced', 'opted_out', 'converted');
update leads set status = 'new' where status not in ('new', 'contacted', 'replied', 'bounced', 'opted_out', 'converted');
-- Only leads with some history can be anything but `new`.
update leads l set status = lead_status_from_history(l.id)
where l.status <> 'converted'
  and (exists (select 1 from enrollments e where e.lead_id = l.id)
    or exists (select 1 from events ev where ev.lead_id = l.id)
    or exists (select 1 from suppressions s where s.workspace_id = l.workspace_id
                 and (s.address = lower(l.email) or s.address = l.phone)));
alter table leads add constraint leads_status_lifecycle
  check (status in ('new', 'contacted', 'replied', 'bounced', 'opted_out', 'converted'));

-- A lead needs an email or a phone (POST has always said so; PATCH could clear both). Rows
-- written before are not checked (`not valid`); every write from now on is.
alter table leads add constraint leads_reachable check (email is not null or phone is not null) not valid;

-- `GET /api/leads?status=` pages a workspace's leads of one status, newest first.
create index leads_workspace_status on leads (workspace_id, status, created_at desc, id desc);

-- Finding every lead that holds an address, across workspaces (an opt-out or a reply that
-- names no thread): the per-workspace indexes cannot serve a lookup without the workspace.
create index leads_email_any_workspace on leads (lower(email)) where email is not null;
create index leads_phone_any_workspace on leads (phone) where phone is not null;

-- A workspace created after an opt-out inherits it: the opt-out belongs to the sender account.
create function workspace_inherits_provider_suppressions() returns trigger
language plpgsql as $$
begin
  insert into suppressions (workspace_id, channel, address, reason, source, sender)
  select distinct on (s.channel, s.address) new.id, s.channel, s.address, s.reason, s.source, s.sender
  from suppressions s
  where s.source <> 'touchpoint'
  order by s.channel, s.address, s.created_at
  on conflict (workspace_id, channel, address) do nothing;
  return null;
end
$$;
create trigger workspaces_inherit_provider_suppressions after insert on workspaces
  for each row execute function workspace_inherits_provider_suppressions();
