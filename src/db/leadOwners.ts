/**
 * Leads' owners (migration 029): setting them, one lead or ten thousand in one statement, each
 * change audited in `lead_owner_changes` with its actor; and who may own a lead — a member of
 * its workspace. Removing a member leaves their leads unowned (src/db/users.ts, changeMembership).
 */
import type { Queryable } from './db.ts';

/** The ids among `userIds` that are members of the workspace. */
export async function membersAmong(db: Queryable, workspaceId: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db.query<{ id: string }>(
    'select user_id as id from memberships where workspace_id = $1 and user_id = any($2::uuid[])',
    [workspaceId, userIds],
  );
  return new Set(rows.map((r) => r.id));
}

/** Whether the user may own something here: a member of the workspace. */
export async function isMember(db: Queryable, workspaceId: string, userId: string): Promise<boolean> {
  return (await membersAmong(db, workspaceId, [userId])).has(userId);
}

/** The workspace's members by lower-cased email (the CSV import's `owner` column names them so). */
export async function memberIdsByEmail(db: Queryable, workspaceId: string): Promise<Map<string, string>> {
  const rows = await db.query<{ id: string; email: string }>(
    'select u.id, lower(u.email) as email from memberships m join users u on u.id = m.user_id where m.workspace_id = $1',
    [workspaceId],
  );
  return new Map(rows.map((r) => [r.email, r.id]));
}

export interface OwnerChange {
  workspaceId: string;
  /** The owner to set; null leaves the leads unowned. */
  ownerId: string | null;
  actor: string;
  at: Date;
}

/**
 * Sets the owner of the given leads of the workspace, in one statement: leads that already have
 * it, and ids of other workspaces, are not written. A new owner who is not (or no longer) a
 * member changes nothing, checked in the same statement. Answers how many leads changed.
 */
export async function setLeadOwners(tx: Queryable, change: OwnerChange & ({ leadIds: readonly string[] } | { ownedBy: string })): Promise<number> {
  const byIds = 'leadIds' in change;
  const [row] = await tx.query<{ n: number }>(
    `with target as (
       select id, owner_id from leads
       where workspace_id = $1 and ${byIds ? 'id = any($5::uuid[])' : 'owner_id = $5::uuid'}
         and owner_id is distinct from $2::uuid
         and ($2::uuid is null or exists (select 1 from memberships m where m.workspace_id = $1 and m.user_id = $2))
       for update),
     changed as (
       update leads l set owner_id = $2::uuid, updated_at = $4 from target t where l.id = t.id
       returning l.id, t.owner_id as "from"),
     audit as (
       insert into lead_owner_changes (workspace_id, lead_id, from_owner_id, to_owner_id, actor, at)
       select $1, c.id, c."from", $2::uuid, $3, $4 from changed c)
     select count(*)::int as n from changed`,
    [change.workspaceId, change.ownerId, change.actor, change.at, byIds ? change.leadIds : change.ownedBy],
  );
  return row?.n ?? 0;
}

/** Audits owners given at creation (a lead created with `ownerId`, an import's `owner` column). */
export async function recordInitialOwners(
  tx: Queryable,
  args: { workspaceId: string; leads: ReadonlyArray<{ id: string; ownerId: string | null }>; actor: string; at: Date },
): Promise<void> {
  const owned = args.leads.filter((l) => l.ownerId !== null);
  if (owned.length === 0) return;
  await tx.query(
    `insert into lead_owner_changes (workspace_id, lead_id, from_owner_id, to_owner_id, actor, at)
     select $1, u.lead_id, null, u.owner_id, $2, $3 from unnest($4::uuid[], $5::uuid[]) as u(lead_id, owner_id)`,
    [args.workspaceId, args.actor, args.at, owned.map((l) => l.id), owned.map((l) => l.ownerId)],
  );
}

export interface OwnerChangeRecord {
  id: string;
  fromOwnerId: string | null;
  toOwnerId: string | null;
  /** The accounts as they are now (null: unowned, or the account is gone). */
  from: { id: string; name: string | null; email: string } | null;
  to: { id: string; name: string | null; email: string } | null;
  actor: string;
  at: Date;
}

/** A lead's owner changes, newest first. */
export async function listOwnerChanges(db: Queryable, workspaceId: string, leadId: string, limit = 100): Promise<OwnerChangeRecord[]> {
  return db.query<OwnerChangeRecord>(
    `select c.id, c.from_owner_id as "fromOwnerId", c.to_owner_id as "toOwnerId", c.actor, c.at,
       (select json_build_object('id', u.id, 'name', u.name, 'email', u.email) from users u where u.id = c.from_owner_id) as "from",
       (select json_build_object('id', u.id, 'name', u.name, 'email', u.email) from users u where u.id = c.to_owner_id) as "to"
     from lead_owner_changes c
     where c.workspace_id = $1 and c.lead_id = $2 order by c.at desc, c.id desc limit $3`,
    [workspaceId, leadId, limit],
  );
}
