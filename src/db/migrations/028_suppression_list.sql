-- Issue 17 item 6: the suppression list people keep by hand (docs/ACCOUNTS.md, "Suppression list").
-- A suppression added through the API or the dashboard names who added it (the caller's actor:
-- a person's email or a token's name); webhook-made ones leave it null. A whole email domain is
-- stored as channel 'email' with address '@domain', so the existing unique index
-- (workspace_id, channel, address) keeps it unique and answers the domain match with a probe.
alter table suppressions add column added_by text;

-- Who added or removed a suppression by hand, and when: a removed row leaves no trace otherwise.
create table suppression_changes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  action text not null check (action in ('added', 'removed')),
  channel text not null,
  address text not null,
  reason text,
  source text,
  actor text not null,
  at timestamptz not null
);
create index suppression_changes_workspace on suppression_changes (workspace_id, at desc);
-- The list pages newest first.
create index suppressions_workspace_created on suppressions (workspace_id, created_at desc, id desc);
