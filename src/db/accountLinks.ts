/**
 * One-time links (migration 016): invites to a workspace and password set/reset links. Only a
 * hash of the link's token is stored; a link is taken once, inside the caller's transaction.
 */
import type { Queryable } from './db.ts';
import type { Role } from './workspaces.ts';

export interface AccountLink {
  id: string;
  kind: 'invite' | 'password';
  workspaceId: string | null;
  workspaceName: string | null;
  role: Role | null;
  email: string | null;
  userId: string | null;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `l.id, l.kind, l.workspace_id as "workspaceId", w.name as "workspaceName", l.role, l.email, l.user_id as "userId",
  l.created_by as "createdBy", l.created_at as "createdAt", l.expires_at as "expiresAt", l.used_at as "usedAt", l.revoked_at as "revokedAt"`;

export async function insertLink(
  db: Queryable,
  args: { kind: 'invite' | 'password'; tokenHash: string; workspaceId?: string; role?: Role; email?: string | null; userId?: string; createdBy: string; now: Date; expiresAt: Date },
): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    `insert into account_links (kind, token_hash, workspace_id, role, email, user_id, created_by, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id`,
    [args.kind, args.tokenHash, args.workspaceId ?? null, args.role ?? null, args.email ?? null, args.userId ?? null, args.createdBy, args.now, args.expiresAt],
  );
  return row!.id;
}

/** The link with this hash if it can still be used (not used, revoked or expired). */
export async function findUsableLink(db: Queryable, tokenHash: string, now: Date): Promise<AccountLink | undefined> {
  const [row] = await db.query<AccountLink>(
    `select ${COLUMNS} from account_links l left join workspaces w on w.id = l.workspace_id
     where l.token_hash = $1 and l.used_at is null and l.revoked_at is null and l.expires_at > $2`,
    [tokenHash, now],
  );
  return row;
}

/**
 * Marks the link used, if it still can be: the one row update two concurrent acceptances race
 * on, so exactly one of them gets the link.
 */
export async function takeLink(tx: Queryable, tokenHash: string, now: Date): Promise<AccountLink | undefined> {
  const [taken] = await tx.query<{ id: string }>(
    `update account_links set used_at = $2
     where token_hash = $1 and used_at is null and revoked_at is null and expires_at > $2 returning id`,
    [tokenHash, now],
  );
  if (!taken) return undefined;
  const [row] = await tx.query<AccountLink>(
    `select ${COLUMNS} from account_links l left join workspaces w on w.id = l.workspace_id where l.id = $1`,
    [taken.id],
  );
  return row;
}

/** The workspace's invites still open, newest first. */
export async function listOpenInvites(db: Queryable, workspaceId: string, now: Date): Promise<AccountLink[]> {
  return db.query<AccountLink>(
    `select ${COLUMNS} from account_links l left join workspaces w on w.id = l.workspace_id
     where l.kind = 'invite' and l.workspace_id = $1 and l.used_at is null and l.revoked_at is null and l.expires_at > $2
     order by l.created_at desc`,
    [workspaceId, now],
  );
}

export async function revokeInvite(db: Queryable, id: string, workspaceId: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    `update account_links set revoked_at = $3
     where id = $1 and workspace_id = $2 and kind = 'invite' and used_at is null and revoked_at is null returning id`,
    [id, workspaceId, now],
  );
  return rows.length > 0;
}

/** Revokes open links of a kind for a person (older reset links when a new one is made). */
export async function revokePasswordLinks(db: Queryable, userId: string, now: Date): Promise<void> {
  await db.query(`update account_links set revoked_at = $2 where kind = 'password' and user_id = $1 and used_at is null and revoked_at is null`, [userId, now]);
}

/** Revokes the open "first admin" invites (no email, admin) of a workspace, before printing a fresh one. */
export async function revokeSetupInvites(db: Queryable, workspaceId: string, now: Date): Promise<void> {
  await db.query(
    `update account_links set revoked_at = $2
     where kind = 'invite' and workspace_id = $1 and email is null and role = 'admin' and created_by = 'first start' and used_at is null and revoked_at is null`,
    [workspaceId, now],
  );
}

/** Open invites addressed to this email (any case), oldest first: what single sign-on may take. */
export async function openInvitesFor(db: Queryable, email: string, now: Date): Promise<AccountLink[]> {
  return db.query<AccountLink>(
    `select ${COLUMNS} from account_links l left join workspaces w on w.id = l.workspace_id
     where l.kind = 'invite' and lower(l.email) = lower($1) and l.used_at is null and l.revoked_at is null and l.expires_at > $2
     order by l.created_at`,
    [email, now],
  );
}

/** Marks one invite used by its id, if it still can be (the single sign-on counterpart of `takeLink`). */
export async function takeInviteById(tx: Queryable, id: string, now: Date): Promise<AccountLink | undefined> {
  const [taken] = await tx.query<{ id: string }>(
    `update account_links set used_at = $2
     where id = $1 and kind = 'invite' and used_at is null and revoked_at is null and expires_at > $2 returning id`,
    [id, now],
  );
  if (!taken) return undefined;
  const [row] = await tx.query<AccountLink>(
    `select ${COLUMNS} from account_links l left join workspaces w on w.id = l.workspace_id where l.id = $1`,
    [taken.id],
  );
  return row;
}
