-- Live text of engine_run_contexts: this file (docs/ENGINE.md, "Database functions").
-- Everything the executor reads before it decides a step, for a batch in one round trip
-- (src/db/runContexts.ts): each enrollment row (snake_case, as stored), its lead (the core's
-- `Lead` shape, built field by field here), its workspace's zone, the facts (its events and
-- lead-level events since it enrolled, custom events' properties and replies' current classes
-- with them), the channels the lead's addresses are suppressed on
-- (the suppression match: email lower-cased or its '@domain', phone as stored, as src/db/enrollments.ts
-- getLeadsToEnroll), and the execution row of the current step's current visit, if written.
create or replace function engine_run_contexts(p_ids uuid[]) returns setof json
language plpgsql stable as $$
begin
  return query
  select json_build_object(
    'enrollment', row_to_json(e),
    'lead', json_build_object('id', l.id, 'email', l.email, 'phone', l.phone, 'timezone', l.timezone,
      'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company, 'title', l.title,
      'customFields', l.custom_fields),
    'workspaceZone', w.timezone,
    'facts', (
      select coalesce(json_agg(json_build_object('type', f.type, 'at', f.at, 'stepId', f.step_id, 'outcome', f.outcome, 'properties', f.properties, 'replyClass', f.reply_class)
        -- Facts at the same instant in an order given by what they say, never by where their rows
        -- lie in the table (which follows what the store held before; docs/SIMULATION.md,
        -- Findings 6): the first exit trigger, the latest reply and a task's outcome read it.
        order by f.at, f.received_at, f.type, f.step_id, f.outcome, f.reply_class, f.properties::text), '[]')
      from (
        -- A custom event's properties, for a branch's `where` (docs/SEQUENCES.md, "Custom events").
        select ev.type, least(ev.occurred_at, ev.received_at) as at, ev.received_at, ev.step_id, ev.data->>'outcome' as outcome,
          case when ev.type like 'custom.%' then ev.data->'properties' end as properties,
          -- A reply's class for `when: {reply: …}` and `exitOn: ["reply.<class>"]`.
          ev.reply_class
        from events ev
        where (ev.enrollment_id = e.id or (ev.lead_id = e.lead_id and ev.enrollment_id is null)) and ev.received_at >= e.enrolled_at
      ) f),
    'suppressed', (
      select coalesce(json_agg(s.channel), '[]')
      from suppressions s
      where s.workspace_id = e.workspace_id
        -- An email's suppression, or its whole domain's ('@domain', the suppression list): two
        -- probes of the unique index (workspace_id, channel, address).
        and ((s.channel = 'email' and s.address in (lower(l.email), '@' || split_part(lower(l.email), '@', 2)))
          or (s.channel in ('sms', 'voice') and s.address = l.phone))),
    'execution', (
      select row_to_json(x)
      from sequence_executions x
      where e.current_step_id is not null
        and x.enrollment_id = e.id and x.step_id = e.current_step_id and x.visit = e.step_seq))
  from enrollments e
  join leads l on l.id = e.lead_id
  join workspaces w on w.id = e.workspace_id
  where e.id = any(p_ids);
end
$$;
