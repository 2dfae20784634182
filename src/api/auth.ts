/**
 * Who is calling. Either a bearer token (it belongs to one workspace and carries a role) or a
 * person's session cookie (they act in the workspace named by `X-Touchpoint-Workspace`, or
 * their first one, with their membership's role there). Every `/api` route names the lowest
 * role it accepts; the hook answers 401 (no or bad credentials) or 403 (role too low, or a
 * cookie write from a foreign origin) before the handler runs, and hands the handler the
 * caller's workspace. Routes marked `personal` also take a signed-in person with no workspace.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { membershipIn, membershipsOf } from '../db/users.ts';
import { ROLES, findToken, touchToken, type Role, type TokenInfo } from '../db/workspaces.ts';
import { WORKSPACE_HEADER, csrfProblem, sessionCookieOf } from './sessionCookie.ts';
import { commonErrors, fail, type Api } from './wire.ts';

export interface Caller {
  workspaceId: string;
  workspaceName: string;
  /** Set for a token caller. */
  tokenId?: string;
  tokenName?: string;
  role: Role;
  /** How audit rows name this caller: the person's email, or the token's name and printed prefix. */
  actor: string;
}

/** A person signed in with a session cookie. */
export interface Person {
  userId: string;
  email: string;
  name: string | null;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
    person?: Person;
  }
  interface FastifyContextConfig {
    /** The route also serves a signed-in person who belongs to no workspace yet (no `caller` then). */
    personal?: boolean;
    /**
     * A cookie caller may name the workspace as `?workspace=` (GET /api/stream: a browser's
     * EventSource sends no headers). Same checks as the header.
     */
    workspaceInQuery?: boolean;
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** `last_used_at` is a hint for operators, not an audit: write it at most once a minute per token. */
const TOUCH_EVERY_MS = 60_000;

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error(`Route ${request.routeOptions.url} ran without the auth hook.`);
  return request.caller;
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Failed authentications per client address, counted in fixed one-minute windows. Past the
 * limit an address is answered 429 before any token lookup, so guessing costs the store
 * nothing. Memory is bounded: at most `maxAddresses` windows, the oldest dropped first.
 */
export class AddressFailures {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the address may try again, or 0 while it is under the limit. */
  blockedFor(address: string): number {
    const window = this.windows.get(address);
    if (!window) return 0;
    const left = window.resetAt - this.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    return window.count >= this.limit ? left : 0;
  }

  fail(address: string): void {
    const now = this.now();
    const window = this.windows.get(address);
    if (window && window.resetAt > now) {
      window.count++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { count: 1, resetAt: now + this.windowMs });
  }
}

/**
 * Tokens this process has seen valid lately (by hash), so an office sharing an address with a
 * guesser keeps working. Only a pass around the address limit: the token is still looked up.
 */
class RecentlyValid {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs = 10 * 60_000, private readonly max = 10_000) {}

  has(token: string): boolean {
    const key = digest(token);
    const until = this.seen.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.seen.delete(key);
    return false;
  }

  add(token: string): void {
    const key = digest(token);
    this.seen.delete(key);
    if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, Date.now() + this.ttlMs);
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export type Authentication =
  | { ok: true; info: TokenInfo }
  | { ok: false; status: 401 | 429; message: string; retryAfterSeconds?: number };

export interface AuthOptions {
  /** Failed authentications per minute per address (AUTH_FAILURE_LIMIT). */
  failureLimit?: number;
}

/**
 * Checks a request's bearer token: the per-address failure limit first (no lookup while an
 * address is over it), then the store. Shared by the REST API and `/metrics`.
 */
export function createAuthenticator(db: Db, options: AuthOptions = {}) {
  const failures = new AddressFailures(options.failureLimit ?? 30);
  const valid = new RecentlyValid();
  return async (request: FastifyRequest): Promise<Authentication> => {
    const address = request.ip;
    const token = bearerToken(request);
    const wait = failures.blockedFor(address);
    if (wait > 0 && !(token && valid.has(token))) {
      const seconds = Math.ceil(wait / 1000);
      return {
        ok: false,
        status: 429,
        retryAfterSeconds: seconds,
        message: `Too many failed authentications from this address (${failures.limit} a minute); retry in ${seconds} s with a valid token.`,
      };
    }
    if (!token) {
      failures.fail(address);
      return { ok: false, status: 401, message: 'Send a token: `Authorization: Bearer <token>` (create one with `npx touchpoint tokens create`).' };
    }
    const info: TokenInfo | undefined = token.length <= 200 ? await findToken(db, token) : undefined;
    if (!info) {
      failures.fail(address);
      return { ok: false, status: 401, message: 'The token is unknown or revoked.' };
    }
    valid.add(token);
    return { ok: true, info };
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

export interface SessionAuth {
  accounts: Accounts;
  publicUrl?: string;
}

export function authHook(db: Db, authenticate: Authenticator = createAuthenticator(db), sessions?: SessionAuth) {
  const touched = new Map<string, number>();
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const minRole = request.routeOptions.config.minRole ?? 'admin';
    const cookie = sessions && !bearerToken(request) ? sessionCookieOf(request) : undefined;
    if (cookie && sessions) return sessionCaller(db, sessions, cookie, request, reply, minRole);
    const result = await authenticate(request);
    if (!result.ok) {
      if (result.status === 429) return fail(reply.header('retry-after', String(result.retryAfterSeconds)), 429, 'rate_limited', result.message);
      return fail(reply, 401, 'unauthorized', result.message);
    }
    const { info } = result;
    if (RANK[info.role] < RANK[minRole]) {
      return fail(reply, 403, 'forbidden', `This needs the ${minRole} role; the token is a ${info.role} token.`);
    }
    request.caller = {
      workspaceId: info.workspaceId,
      workspaceName: info.workspaceName,
      tokenId: info.id,
      tokenName: info.name,
      role: info.role,
      actor: `${info.name} (${info.prefix}…)`,
    };
    const last = touched.get(info.id) ?? 0;
    if (Date.now() - last > TOUCH_EVERY_MS) {
      touched.set(info.id, Date.now());
      await touchToken(db, info.id);
    }
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cookie caller: a live session, a same-origin write, a workspace they belong to, a role high enough. */
async function sessionCaller(db: Db, sessions: SessionAuth, cookie: string, request: FastifyRequest, reply: FastifyReply, minRole: Role) {
  const session = await sessions.accounts.session(cookie);
  if (!session) return fail(reply, 401, 'unauthorized', 'Your session has ended (signed out, expired or revoked); sign in again.');
  const forged = csrfProblem(request, sessions.publicUrl);
  if (forged) return fail(reply, 403, 'csrf', forged);
  request.person = { userId: session.userId, email: session.email, name: session.name, sessionId: session.id };
  const inQuery = request.routeOptions.config.workspaceInQuery ? (request.query as { workspace?: unknown } | undefined)?.workspace : undefined;
  const chosen = request.headers[WORKSPACE_HEADER] ?? inQuery;
  let membership;
  if (typeof chosen === 'string' && chosen !== '') {
    if (!UUID.test(chosen)) return fail(reply, 400, 'bad_request', `${WORKSPACE_HEADER} must be a workspace id (a uuid); GET /api/me lists yours.`);
    membership = await membershipIn(db, session.userId, chosen);
    if (!membership) return fail(reply, 403, 'forbidden', `You are not a member of workspace ${chosen}; GET /api/me lists yours.`);
  } else {
    membership = (await membershipsOf(db, session.userId))[0];
  }
  if (!membership) {
    if (request.routeOptions.config.personal) return;
    return fail(reply, 403, 'forbidden', 'You are not a member of any workspace yet: accept an invite, or create a workspace (POST /api/workspaces).');
  }
  if (RANK[membership.role] < RANK[minRole] && !request.routeOptions.config.personal) {
    return fail(reply, 403, 'forbidden', `This needs the ${minRole} role; you are ${membership.role === 'admin' ? 'an' : 'a'} ${membership.role} in ${membership.workspaceName}.`);
  }
  request.caller = {
    workspaceId: membership.workspaceId,
    workspaceName: membership.workspaceName,
    role: membership.role,
    actor: session.email,
  };
}

const membershipSchema = z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES) });
const meSchema = z
  .object({
    workspace: z.object({ id: z.string(), name: z.string() }).nullable().describe('The workspace this request acts in (null: a person in none yet)'),
    role: z.enum(ROLES).nullable(),
    token: z.object({ id: z.string(), name: z.string() }).optional().describe('For a token caller'),
    user: z.object({ id: z.string(), email: z.string(), name: z.string().nullable() }).optional().describe('For a signed-in person'),
    workspaces: z.array(membershipSchema).optional().describe("A person's workspaces and role in each"),
  })
  .meta({ id: 'Me' });

export function meRoutes(api: Api, db: Db) {
  api.get(
    '/me',
    {
      config: { minRole: 'viewer', personal: true },
      schema: {
        summary: 'Who is calling: the token (its workspace and role), or the person, their workspaces and role in each',
        tags: ['auth'],
        response: { 200: meSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = request.caller;
      const acting = caller ? { workspace: { id: caller.workspaceId, name: caller.workspaceName }, role: caller.role } : { workspace: null, role: null };
      if (request.person) {
        const memberships = await membershipsOf(db, request.person.userId);
        return {
          ...acting,
          user: { id: request.person.userId, email: request.person.email, name: request.person.name },
          workspaces: memberships.map((m) => ({ id: m.workspaceId, name: m.workspaceName, role: m.role })),
        };
      }
      return { ...acting, token: { id: caller!.tokenId!, name: caller!.tokenName! } };
    },
  );
}
