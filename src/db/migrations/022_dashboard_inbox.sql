-- Issue 20, part 2: demo data you can remove, and the replies inbox's snoozes.

-- Sequences `touchpoint seed --demo` (or the dashboard's "Load demo data") made: found again on a
-- second run, so seeding twice duplicates nothing, and removed with the demo leads. Demo leads
-- are told apart by their CRM id (`external_id` 'demo:…'), which already has a unique index.
alter table sequences add column demo boolean not null default false;

-- A reply hidden from the inbox until a time ("snooze"): one row per reply, the latest wins.
create table reply_snoozes (
  event_id uuid primary key references events(id) on delete cascade,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  until timestamptz not null,
  actor text not null,
  created_at timestamptz not null
);
-- The inbox reads every reply of a workspace newest first.
create index events_workspace_replies on events (workspace_id, occurred_at desc, id desc)
  where type in ('email.replied', 'sms.replied');
