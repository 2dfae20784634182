/**
 * Saved filters of the Leads page (migration 031): one person's (or token's) named filters, and
 * those shared with the workspace. Who may change which is the API's rule; these only read and write.
 */
import type { Queryable } from './db.ts';

export interface SavedFilterRecord {
  id: string;
  workspaceId: string;
  owner: string;
  ownerLabel: string;
  name: string;
  filter: Record<string, unknown>;
  shared: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, workspace_id as "workspaceId", owner, owner_label as "ownerLabel", name, filter, shared,
  created_at as "createdAt", updated_at as "updatedAt"`;

/** The name is taken by another filter of the same owner (the unique index of migration 031). */
export function isSavedFilterNameTaken(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; message?: string } | null;
  return e?.code === '23505' && (e.constraint === 'saved_filters_owner_name' || /saved_filters_owner_name/.test(String(e.message)));
}

/** The owner's filters and the workspace's shared ones, by name. */
export async function listSavedFilters(db: Queryable, workspaceId: string, owner: string): Promise<SavedFilterRecord[]> {
  return db.query<SavedFilterRecord>(
    `select ${COLUMNS} from saved_filters where workspace_id = $1 and (owner = $2 or shared) order by lower(name), id`,
    [workspaceId, owner],
  );
}

/** One filter the owner may see (theirs, or shared), or nothing. */
export async function getSavedFilter(db: Queryable, workspaceId: string, owner: string, id: string): Promise<SavedFilterRecord | undefined> {
  const [row] = await db.query<SavedFilterRecord>(
    `select ${COLUMNS} from saved_filters where workspace_id = $1 and id = $2 and (owner = $3 or shared)`,
    [workspaceId, id, owner],
  );
  return row;
}

export async function insertSavedFilter(
  db: Queryable,
  row: { workspaceId: string; owner: string; ownerLabel: string; name: string; filter: Record<string, unknown>; shared: boolean; now: Date },
): Promise<SavedFilterRecord> {
  const [created] = await db.query<SavedFilterRecord>(
    `insert into saved_filters (workspace_id, owner, owner_label, name, filter, shared, created_at, updated_at)
     values ($1, $2, $3, $4, $5::jsonb, $6, $7, $7) returning ${COLUMNS}`,
    [row.workspaceId, row.owner, row.ownerLabel, row.name, JSON.stringify(row.filter), row.shared, row.now],
  );
  return created!;
}

export async function updateSavedFilter(
  db: Queryable,
  workspaceId: string,
  id: string,
  patch: { name?: string; filter?: Record<string, unknown>; shared?: boolean; now: Date },
): Promise<SavedFilterRecord | undefined> {
  const [row] = await db.query<SavedFilterRecord>(
    `update saved_filters set name = coalesce($3, name), filter = coalesce($4::jsonb, filter), shared = coalesce($5, shared), updated_at = $6
     where workspace_id = $1 and id = $2 returning ${COLUMNS}`,
    [workspaceId, id, patch.name ?? null, patch.filter ? JSON.stringify(patch.filter) : null, patch.shared ?? null, patch.now],
  );
  return row;
}

export async function deleteSavedFilter(db: Queryable, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db.query('delete from saved_filters where workspace_id = $1 and id = $2 returning id', [workspaceId, id]);
  return rows.length > 0;
}
