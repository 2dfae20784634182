-- Issue 17 item 5: owners and assignment (docs/ACCOUNTS.md, "Owners and working hours").
--
-- A lead's owner is a member of its workspace; null = unowned. Deleting the account leaves the
-- lead unowned (on delete set null); removing the membership does the same, in the transaction
-- that removes it (src/db/users.ts, changeMembership), since a foreign key cannot say "member".
alter table leads add column owner_id uuid references users(id) on delete set null;
-- `GET /api/leads?owner=…` pages one owner's leads newest first, as the list without the filter.
create index leads_workspace_owner on leads (workspace_id, owner_id, created_at desc, id desc) where owner_id is not null;

-- Who changed a lead's owner, from whom to whom, and when (the actor: a person's email or a
-- token's name and prefix, as enrollment_changes names it).
create table lead_owner_changes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  lead_id uuid not null references leads(id) on delete cascade,
  from_owner_id uuid,
  to_owner_id uuid,
  actor text not null,
  at timestamptz not null
);
create index lead_owner_changes_lead on lead_owner_changes (lead_id, at desc);

-- A member's working hours in this workspace: an IANA zone and a schedule in the sequence
-- definition's shape (days, start, end, holidays). Null = the workspace's zone and default schedule.
alter table memberships add column timezone text;
alter table memberships add column schedule jsonb;

-- The member a mailbox belongs to (the rep who sends from it); null = the team's.
alter table mailboxes add column owner_id uuid references users(id) on delete set null;
