/**
 * People who sign in (migration 016): accounts, their memberships in workspaces, and the
 * per-email count of failed sign-ins behind the lockout. Emails match case-insensitively.
 */
import type { Queryable } from './db.ts';
import { setLeadOwners } from './leadOwners.ts';
import type { Role } from './workspaces.ts';

export interface User {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  createdAt: Date;
}

export interface Membership {
  workspaceId: string;
  workspaceName: string;
  role: Role;
}

export interface Member {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  joinedAt: Date;
  /** Their working hours here (migration 029); null = the workspace's zone and default schedule. */
  timezone: string | null;
  schedule: unknown | null;
}

const USER_COLUMNS = `id, email, name, password_hash as "passwordHash", created_at as "createdAt"`;

export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const [row] = await db.query<User>(`select ${USER_COLUMNS} from users where lower(email) = lower($1)`, [email]);
  return row;
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  const [row] = await db.query<User>(`select ${USER_COLUMNS} from users where id = $1`, [id]);
  return row;
}

/** Creates the account, or answers the existing one for this address (case-insensitively). */
export async function ensureUser(db: Queryable, email: string, name?: string | null): Promise<User> {
  const [row] = await db.query<User>(
    `insert into users (email, name) values ($1, $2)
     on conflict (lower(email)) do update set name = coalesce(users.name, excluded.name)
     returning ${USER_COLUMNS}`,
    [email, name ?? null],
  );
  return row!;
}

export async function setPasswordHash(db: Queryable, userId: string, hash: string): Promise<void> {
  await db.query('update users set password_hash = $2 where id = $1', [userId, hash]);
}

export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from users');
  return row?.n ?? 0;
}

/** The person's workspaces and role in each, the oldest membership first. */
export async function membershipsOf(db: Queryable, userId: string): Promise<Membership[]> {
  return db.query<Membership>(
    `select m.workspace_id as "workspaceId", w.name as "workspaceName", m.role
     from memberships m join workspaces w on w.id = m.workspace_id
     where m.user_id = $1 order by m.created_at, w.name`,
    [userId],
  );
}

export async function membershipIn(db: Queryable, userId: string, workspaceId: string): Promise<Membership | undefined> {
  const [row] = await db.query<Membership>(
    `select m.workspace_id as "workspaceId", w.name as "workspaceName", m.role
     from memberships m join workspaces w on w.id = m.workspace_id
     where m.user_id = $1 and m.workspace_id = $2`,
    [userId, workspaceId],
  );
  return row;
}

const MEMBER_COLUMNS = `u.id as "userId", u.email, u.name, m.role, m.created_at as "joinedAt", m.timezone, m.schedule`;

export async function listMembers(db: Queryable, workspaceId: string): Promise<Member[]> {
  return db.query<Member>(
    `select ${MEMBER_COLUMNS}
     from memberships m join users u on u.id = m.user_id
     where m.workspace_id = $1 order by m.created_at, u.email`,
    [workspaceId],
  );
}

/**
 * Adds the membership; an existing one keeps the higher of the two roles (an invite never
 * demotes). Answers the role in force.
 */
export async function addMembership(db: Queryable, workspaceId: string, userId: string, role: Role): Promise<Role> {
  const [row] = await db.query<{ role: Role }>(
    `insert into memberships (workspace_id, user_id, role) values ($1, $2, $3)
     on conflict (workspace_id, user_id) do update set role = case
       when array_position(array['viewer','operator','admin'], excluded.role) > array_position(array['viewer','operator','admin'], memberships.role)
       then excluded.role else memberships.role end
     returning role`,
    [workspaceId, userId, role],
  );
  return row!.role;
}

export type MembershipChange = { ok: true; member: Member } | { ok: false; reason: 'not_found' | 'last_admin' };

/** One member of the workspace, or nothing. */
export async function getMember(db: Queryable, workspaceId: string, userId: string): Promise<Member | undefined> {
  const [row] = await db.query<Member>(
    `select ${MEMBER_COLUMNS} from memberships m join users u on u.id = m.user_id where m.workspace_id = $1 and m.user_id = $2`,
    [workspaceId, userId],
  );
  return row;
}

/** Sets a member's working hours (a field absent stays; null goes back to the workspace's). */
export async function setMemberHours(
  db: Queryable,
  args: { workspaceId: string; userId: string; timezone?: string | null; schedule?: unknown | null },
): Promise<Member | undefined> {
  const [row] = await db.query<{ userId: string }>(
    `update memberships set
       timezone = case when $3 then $4 else timezone end,
       schedule = case when $5 then $6::jsonb else schedule end
     where workspace_id = $1 and user_id = $2 returning user_id as "userId"`,
    [
      args.workspaceId,
      args.userId,
      args.timezone !== undefined,
      args.timezone ?? null,
      args.schedule !== undefined,
      args.schedule == null ? null : JSON.stringify(args.schedule),
    ],
  );
  return row && getMember(db, args.workspaceId, args.userId);
}

/**
 * Changes a member's role (or removes them when `role` is null) in one transaction that holds
 * the workspace's row lock, so two admins demoting each other at once cannot leave it with
 * none: the change is undone when no admin member would remain.
 */
export async function changeMembership(
  tx: Queryable,
  args: { workspaceId: string; userId: string; role: Role | null; actor?: string; at?: Date },
): Promise<MembershipChange> {
  await tx.query('select id from workspaces where id = $1 for update', [args.workspaceId]);
  const [before] = await tx.query<Member>(
    `select ${MEMBER_COLUMNS}
     from memberships m join users u on u.id = m.user_id where m.workspace_id = $1 and m.user_id = $2`,
    [args.workspaceId, args.userId],
  );
  if (!before) return { ok: false, reason: 'not_found' };
  if (before.role === 'admin' && args.role !== 'admin') {
    const [other] = await tx.query<{ n: number }>(
      `select count(*)::int as n from memberships where workspace_id = $1 and role = 'admin' and user_id <> $2`,
      [args.workspaceId, args.userId],
    );
    if ((other?.n ?? 0) === 0) return { ok: false, reason: 'last_admin' };
  }
  if (args.role === null) {
    await tx.query('delete from memberships where workspace_id = $1 and user_id = $2', [args.workspaceId, args.userId]);
    // What they owned here is nobody's now: their leads (audited) and mailboxes.
    const at = args.at ?? new Date();
    await setLeadOwners(tx, { workspaceId: args.workspaceId, ownedBy: args.userId, ownerId: null, actor: args.actor ?? 'system', at });
    await tx.query('update mailboxes set owner_id = null where workspace_id = $1 and owner_id = $2', [args.workspaceId, args.userId]);
    return { ok: true, member: before };
  }
  await tx.query('update memberships set role = $3 where workspace_id = $1 and user_id = $2', [args.workspaceId, args.userId, args.role]);
  return { ok: true, member: { ...before, role: args.role } };
}

/** The lockout's state for a submitted address (lower-cased by the caller). */
export async function loginFailures(db: Queryable, email: string): Promise<{ failures: number; firstAt: Date; lockedUntil: Date | null } | undefined> {
  const [row] = await db.query<{ failures: number; firstAt: Date; lockedUntil: Date | null }>(
    `select failures, first_at as "firstAt", locked_until as "lockedUntil" from login_failures where email = $1`,
    [email],
  );
  return row;
}

/**
 * Counts one failure in the window that opened at the first one (a new window once it is over);
 * at `limit` failures the address is locked until `now + lockMs`. Answers the lock, if any.
 */
export async function recordLoginFailure(
  db: Queryable,
  args: { email: string; now: Date; windowMs: number; limit: number; lockMs: number },
): Promise<Date | null> {
  const [counted] = await db.query<{ failures: number }>(
    `insert into login_failures as f (email, failures, first_at) values ($1, 1, $2)
     on conflict (email) do update set
       failures = case when f.first_at + ($3::bigint * interval '1 millisecond') <= $2 then 1 else f.failures + 1 end,
       first_at = case when f.first_at + ($3::bigint * interval '1 millisecond') <= $2 then $2 else f.first_at end
     returning failures`,
    [args.email, args.now, args.windowMs],
  );
  if ((counted?.failures ?? 0) < args.limit) return null;
  const lockedUntil = new Date(args.now.getTime() + args.lockMs);
  // The count starts again once the lock is set: the next failures after it earn the next lock.
  await db.query('update login_failures set locked_until = $2, failures = 0, first_at = $3 where email = $1', [args.email, lockedUntil, args.now]);
  return lockedUntil;
}

export async function clearLoginFailures(db: Queryable, email: string): Promise<void> {
  await db.query('delete from login_failures where email = $1', [email]);
}
