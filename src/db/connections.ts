/**
 * Provider connections (docs/PROVIDERS.md, "Per-workspace connections"): a workspace's own
 * SendGrid, Postmark or Telnyx account. `settings` holds what is not secret (public keys, ids,
 * a webhook user name); `secret_sealed` the credentials, one JSON object sealed under the key
 * ring with the context `connection:<id>` (src/secrets/keyRing.ts). One per provider and workspace.
 */
import type { Queryable } from './db.ts';

export type ConnectionProvider = 'sendgrid' | 'postmark' | 'telnyx';

export interface ConnectionRecord {
  id: string;
  workspaceId: string;
  provider: ConnectionProvider;
  settings: Record<string, string>;
  /** Sealed (src/secrets/keyRing.ts): never leaves the server. */
  secretSealed: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, workspace_id as "workspaceId", provider, settings, secret_sealed as "secretSealed",
  created_at as "createdAt", updated_at as "updatedAt"`;

export class DuplicateConnectionError extends Error {}

/** The additional data a connection's sealed credentials are bound to: they open on no other row. */
export function connectionSecretContext(connectionId: string): string {
  return `connection:${connectionId}`;
}

/** The id is chosen by the caller: it is bound into the sealed credentials (their context). */
export async function createConnection(
  db: Queryable,
  workspaceId: string,
  c: { id: string; provider: ConnectionProvider; settings: Record<string, string>; secretSealed: string },
  now: Date,
): Promise<ConnectionRecord> {
  try {
    const [row] = await db.query<ConnectionRecord>(
      `insert into provider_connections (id, workspace_id, provider, settings, secret_sealed, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $6) returning ${COLUMNS}`,
      [c.id, workspaceId, c.provider, JSON.stringify(c.settings), c.secretSealed, now.toISOString()],
    );
    return row!;
  } catch (error) {
    if ((error as { code?: string } | null)?.code === '23505') {
      throw new DuplicateConnectionError(`This workspace already has a ${c.provider} connection; change it with PATCH or delete it first.`);
    }
    throw error;
  }
}

export async function listConnections(db: Queryable, workspaceId: string): Promise<ConnectionRecord[]> {
  return db.query<ConnectionRecord>(`select ${COLUMNS} from provider_connections where workspace_id = $1 order by created_at, id`, [workspaceId]);
}

export async function getConnection(db: Queryable, workspaceId: string, id: string): Promise<ConnectionRecord | undefined> {
  const [row] = await db.query<ConnectionRecord>(`select ${COLUMNS} from provider_connections where workspace_id = $1 and id = $2`, [workspaceId, id]);
  return row;
}

/**
 * A connection by id alone: a provider's webhook names it in its path
 * (`/webhooks/sendgrid/{id}`), and the connection's own key then proves the request.
 */
export async function findConnection(db: Queryable, id: string): Promise<ConnectionRecord | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const [row] = await db.query<ConnectionRecord>(`select ${COLUMNS} from provider_connections where id = $1`, [id]);
  return row;
}

export async function updateConnection(
  db: Queryable,
  workspaceId: string,
  c: { id: string; settings: Record<string, string>; secretSealed: string },
  now: Date,
): Promise<ConnectionRecord | undefined> {
  const [row] = await db.query<ConnectionRecord>(
    `update provider_connections set settings = $3, secret_sealed = $4, updated_at = $5
     where workspace_id = $1 and id = $2 returning ${COLUMNS}`,
    [workspaceId, c.id, JSON.stringify(c.settings), c.secretSealed, now.toISOString()],
  );
  return row;
}

export async function deleteConnection(db: Queryable, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db.query('delete from provider_connections where workspace_id = $1 and id = $2 returning id', [workspaceId, id]);
  return rows.length > 0;
}
