-- Live text of lead_status_from_history: this file (docs/ENGINE.md, "Database functions").
-- The status a lead's history shows (src/core/leadStatus.ts ranks them). Opt-outs and bounces
-- come from the live suppressions of its addresses (a START that lifted an opt-out is thereby
-- honoured); replies and contacts from its events and sends; a conversion from its
-- enrollments. A lead converted as a whole (POST /api/leads/{id}/convert) keeps no enrollment
-- mark: callers never recompute a converted lead.
create or replace function lead_status_from_history(p_lead_id uuid) returns text
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
