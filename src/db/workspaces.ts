import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db.ts';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Workspace {
  id: string;
  name: string;
  timezone: string;
}

export interface TokenInfo {
  id: string;
  workspaceId: string;
  workspaceName: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function ensureWorkspace(db: Queryable, name: string, timezone?: string): Promise<Workspace> {
  const [row] = await db.query<Workspace>(
    `insert into workspaces (name, timezone) values ($1, coalesce($2, 'America/New_York'))
     on conflict (name) do update set name = excluded.name
     returning id, name, timezone`,
    [name, timezone ?? null],
  );
  return row!;
}

export async function getWorkspace(db: Queryable, id: string): Promise<Workspace | undefined> {
  const [row] = await db.query<Workspace>('select id, name, timezone from workspaces where id = $1', [id]);
  return row;
}

/** Creates a token and returns it in clear text, the only time it is ever visible. */
export async function createToken(
  db: Queryable,
  workspaceId: string,
  role: Role,
  name = `${role} token`,
): Promise<{ token: string; id: string }> {
  const token = `tp_${randomBytes(24).toString('base64url')}`;
  const [row] = await db.query<{ id: string }>(
    `insert into api_tokens (workspace_id, name, role, token_hash, prefix) values ($1, $2, $3, $4, $5) returning id`,
    [workspaceId, name, role, hashToken(token), token.slice(0, 8)],
  );
  return { token, id: row!.id };
}

const TOKEN_COLUMNS = `t.id, t.workspace_id as "workspaceId", w.name as "workspaceName", t.name, t.role, t.prefix,
  t.created_at as "createdAt", t.last_used_at as "lastUsedAt", t.revoked_at as "revokedAt"`;

/** The live (not revoked) token with this clear text, if any. */
export async function findToken(db: Queryable, token: string): Promise<TokenInfo | undefined> {
  const [row] = await db.query<TokenInfo>(
    `select ${TOKEN_COLUMNS} from api_tokens t join workspaces w on w.id = t.workspace_id
     where t.token_hash = $1 and t.revoked_at is null`,
    [hashToken(token)],
  );
  return row;
}

/** Whether a token is still live (not revoked): an open live stream asks on each heartbeat. */
export async function tokenIsLive(db: Queryable, tokenId: string): Promise<boolean> {
  const rows = await db.query('select 1 from api_tokens where id = $1 and revoked_at is null', [tokenId]);
  return rows.length > 0;
}

export async function listTokens(db: Queryable, workspaceId?: string): Promise<TokenInfo[]> {
  return db.query<TokenInfo>(
    `select ${TOKEN_COLUMNS} from api_tokens t join workspaces w on w.id = t.workspace_id
     where ($1::uuid is null or t.workspace_id = $1) order by t.created_at`,
    [workspaceId ?? null],
  );
}

/** Revokes by id or by the printed prefix; answers whether a live token was revoked. */
export async function revokeToken(db: Queryable, idOrPrefix: string, workspaceId?: string): Promise<boolean> {
  const rows = await db.query(
    `update api_tokens set revoked_at = now()
     where revoked_at is null and ($2::uuid is null or workspace_id = $2)
       and (id::text = $1 or prefix = $1) returning id`,
    [idOrPrefix, workspaceId ?? null],
  );
  return rows.length > 0;
}

export async function touchToken(db: Queryable, id: string): Promise<void> {
  await db.query('update api_tokens set last_used_at = now() where id = $1', [id]);
}

/** Whether any token was ever created (revoked ones count): the first run is the one with none. */
export async function anyTokenExists(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from api_tokens');
  return row !== undefined && row.n > 0;
}

/** What `PATCH /api/workspaces/{id}` may change, and `GET` answers (migration 016). */
export interface WorkspaceDetails extends Workspace {
  defaultSchedule: unknown | null;
  defaultQuietHours: unknown | null;
  holidays: string[];
  createdAt: Date;
}

const DETAIL_COLUMNS = `id, name, timezone, default_schedule as "defaultSchedule", default_quiet_hours as "defaultQuietHours",
  holidays, created_at as "createdAt"`;

export async function getWorkspaceDetails(db: Queryable, id: string): Promise<WorkspaceDetails | undefined> {
  const [row] = await db.query<WorkspaceDetails>(`select ${DETAIL_COLUMNS} from workspaces where id = $1`, [id]);
  return row;
}

/** A new workspace, or undefined when the name is taken. */
export async function createWorkspace(db: Queryable, name: string, timezone: string): Promise<WorkspaceDetails | undefined> {
  const [row] = await db.query<WorkspaceDetails>(
    `insert into workspaces (name, timezone) values ($1, $2) on conflict (name) do nothing returning ${DETAIL_COLUMNS}`,
    [name, timezone],
  );
  return row;
}

export type WorkspaceChanges = Partial<{ name: string; timezone: string; defaultSchedule: unknown | null; defaultQuietHours: unknown | null; holidays: string[] }>;

/** Applies the given fields; answers 'name_taken' when another workspace has the name. */
export async function updateWorkspace(db: Queryable, id: string, changes: WorkspaceChanges): Promise<WorkspaceDetails | undefined | 'name_taken'> {
  if (changes.name !== undefined) {
    const [taken] = await db.query('select id from workspaces where name = $1 and id <> $2', [changes.name, id]);
    if (taken) return 'name_taken';
  }
  const has = (key: keyof WorkspaceChanges) => key in changes;
  const [row] = await db.query<WorkspaceDetails>(
    `update workspaces set
       name = coalesce($2, name),
       timezone = coalesce($3, timezone),
       default_schedule = case when $4 then $5::jsonb else default_schedule end,
       default_quiet_hours = case when $6 then $7::jsonb else default_quiet_hours end,
       holidays = coalesce($8::text[], holidays)
     where id = $1 returning ${DETAIL_COLUMNS}`,
    [
      id,
      changes.name ?? null,
      changes.timezone ?? null,
      has('defaultSchedule'),
      changes.defaultSchedule == null ? null : JSON.stringify(changes.defaultSchedule),
      has('defaultQuietHours'),
      changes.defaultQuietHours == null ? null : JSON.stringify(changes.defaultQuietHours),
      changes.holidays ?? null,
    ],
  );
  return row;
}

export async function findWorkspaceByName(db: Queryable, name: string): Promise<Workspace | undefined> {
  const [row] = await db.query<Workspace>('select id, name, timezone from workspaces where name = $1', [name]);
  return row;
}
