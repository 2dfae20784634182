-- Fair claims across workspaces (issue 21; docs/ENGINE.md, "Fair claims across workspaces").
-- The due index is now per workspace, (workspace_id, next_execution_at), so a claim can take
-- each workspace's share of a batch in that workspace's due order: a small workspace's due step
-- no longer waits behind a large one's backlog. It replaces the global (next_execution_at)
-- index rather than adding to it, so a claim, an enrollment and a finish write no more index
-- entries than before; the earliest due time is then one probe per workspace.
create index enrollments_due_by_workspace on enrollments (workspace_id, next_execution_at)
  where status in ('active', 'waiting') and next_execution_at is not null;
drop index enrollments_due;

-- A workspace's share of each claim, relative to the other workspaces with steps due at the
-- same time (1 = an equal share). Set by the operator (`touchpoint workspace weight`), never by
-- the workspace's own admin: a tenant must not be able to buy itself a larger share.
alter table workspaces add column claim_weight int not null default 1
  constraint workspaces_claim_weight_range check (claim_weight between 1 and 1000);

