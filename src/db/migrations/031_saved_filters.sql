-- Issue 20 (lead list): saved filters of the Leads page (docs/API.md, "Saved filters").
-- A filter belongs to who saved it: `owner` is 'user:<user id>' for a person, 'token:<token name>'
-- for an API token (a token made again under the same name keeps its filters); `owner_label` is
-- how the list names them (the caller's actor when saved). `shared`: every member of the workspace
-- sees and applies it; only its owner or an admin changes or deletes it. `filter` is the lead
-- list's filter object as the API validated it (src/api/leadFilter.ts).
create table saved_filters (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces(id) on delete cascade,
  owner text not null,
  owner_label text not null,
  name text not null,
  filter jsonb not null,
  shared boolean not null default false,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
-- Names are unique per owner (case-insensitively): the 409 of a second "Hot leads".
create unique index saved_filters_owner_name on saved_filters (workspace_id, owner, lower(name));
create index saved_filters_shared on saved_filters (workspace_id) where shared;
