/**
 * Bearer tokens: each belongs to one workspace and carries a role. Every `/api` route names the
 * lowest role it accepts; the hook answers 401 (no or bad token) or 403 (role too low) before
 * the handler runs, and hands the handler the caller's workspace.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { ROLES, findToken, touchToken, type Role, type TokenInfo } from '../db/workspaces.ts';
import { commonErrors, fail, type Api } from './wire.ts';

export interface Caller {
  workspaceId: string;
  workspaceName: string;
  tokenId: string;
  tokenName: string;
  role: Role;
  /** How audit rows name this caller: the token's name and printed prefix. */
  actor: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
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

export function authHook(db: Db) {
  const touched = new Map<string, number>();
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const minRole = request.routeOptions.config.minRole ?? 'admin';
    const token = bearerToken(request);
    if (!token) {
      return fail(reply, 401, 'unauthorized', 'Send a token: `Authorization: Bearer <token>` (create one with `npx touchpoint tokens create`).');
    }
    const info: TokenInfo | undefined = token.length <= 200 ? await findToken(db, token) : undefined;
    if (!info) return fail(reply, 401, 'unauthorized', 'The token is unknown or revoked.');
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

const meSchema = z.object({
  workspace: z.object({ id: z.string(), name: z.string() }),
  role: z.enum(ROLES),
  token: z.object({ id: z.string(), name: z.string() }),
});

export function meRoutes(api: Api) {
  api.get(
    '/me',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Who the token is: its workspace and role',
        tags: ['auth'],
        response: { 200: meSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return {
        workspace: { id: caller.workspaceId, name: caller.workspaceName },
        role: caller.role,
        token: { id: caller.tokenId, name: caller.tokenName },
      };
    },
  );
}
