/**
 * Sign-in sessions (migration 016): a row per session, found by the hash of the cookie's
 * value. Every request reads the row, so a revocation takes effect on the next request.
 */
import type { Queryable } from './db.ts';

export interface SessionRow {
  id: string;
  userId: string;
  email: string;
  name: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export async function insertSession(
  db: Queryable,
  args: { tokenHash: string; userId: string; now: Date; expiresAt: Date; address?: string; userAgent?: string },
): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    `insert into sessions (token_hash, user_id, created_at, last_seen_at, expires_at, address, user_agent)
     values ($1, $2, $3, $3, $4, $5, $6) returning id`,
    [args.tokenHash, args.userId, args.now, args.expiresAt, args.address ?? null, args.userAgent?.slice(0, 300) ?? null],
  );
  return row!.id;
}

/** The live session with this hash: not revoked, before its absolute end, seen within `idleMs`. */
export async function findLiveSession(db: Queryable, tokenHash: string, now: Date, idleMs: number): Promise<SessionRow | undefined> {
  const [row] = await db.query<SessionRow>(
    `select s.id, s.user_id as "userId", u.email, u.name, s.created_at as "createdAt", s.last_seen_at as "lastSeenAt", s.expires_at as "expiresAt"
     from sessions s join users u on u.id = s.user_id
     where s.token_hash = $1 and s.revoked_at is null and s.expires_at > $2
       and s.last_seen_at + ($3::bigint * interval '1 millisecond') > $2`,
    [tokenHash, now, idleMs],
  );
  return row;
}

export async function touchSession(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('update sessions set last_seen_at = greatest(last_seen_at, $2) where id = $1', [id, now]);
}

export async function revokeSession(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('update sessions set revoked_at = coalesce(revoked_at, $2) where id = $1', [id, now]);
}

/** Ends every live session of a person (a password change, a reset), but `except`. */
export async function revokeUserSessions(db: Queryable, userId: string, now: Date, except?: string): Promise<number> {
  const rows = await db.query(
    `update sessions set revoked_at = $2 where user_id = $1 and revoked_at is null and ($3::uuid is null or id <> $3) returning id`,
    [userId, now, except ?? null],
  );
  return rows.length;
}
