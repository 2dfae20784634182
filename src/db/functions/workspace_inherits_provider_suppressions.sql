-- Live text of workspace_inherits_provider_suppressions: this file (docs/ENGINE.md, "Database functions").
-- A workspace created after an opt-out inherits it: the opt-out belongs to the sender account
-- (docs/ENGINE.md, "Opt-outs and replies across workspaces"). The trigger that calls it is
-- migration 008's. A suppression a person added to one workspace's list (added_by) stays there.
create or replace function workspace_inherits_provider_suppressions() returns trigger
language plpgsql as $$
begin
  insert into suppressions (workspace_id, channel, address, reason, source, sender)
  select distinct on (s.channel, s.address) new.id, s.channel, s.address, s.reason, s.source, s.sender
  from suppressions s
  where s.source <> 'touchpoint' and s.added_by is null
  order by s.channel, s.address, s.created_at
  on conflict (workspace_id, channel, address) do nothing;
  return null;
end
$$;
