/**
 * Token management for admins: list, create (the clear token is in this one answer only),
 * revoke. A token only ever sees the tokens of its own workspace.
 */
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { ROLES, createToken, listTokens, revokeToken, type TokenInfo } from '../db/workspaces.ts';
import { callerOf } from './auth.ts';
import { commonErrors, fail, id, idParams, iso, isoTime, type Api } from './wire.ts';

const tokenSchema = z
  .object({
    id,
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string().describe('The first characters of the token, to tell tokens apart'),
    createdAt: isoTime,
    lastUsedAt: isoTime.nullable(),
    revokedAt: isoTime.nullable(),
  })
  .meta({ id: 'Token' });

const toWire = (t: TokenInfo) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  prefix: t.prefix,
  createdAt: iso(t.createdAt)!,
  lastUsedAt: iso(t.lastUsedAt),
  revokedAt: iso(t.revokedAt),
});

export function tokenRoutes(api: Api, db: Db) {
  api.get(
    '/tokens',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "List the workspace's tokens (live and revoked)",
        tags: ['tokens'],
        querystring: z.object({ includeRevoked: z.stringbool().default(true) }),
        response: { 200: z.object({ items: z.array(tokenSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const tokens = await listTokens(db, callerOf(request).workspaceId);
      return { items: tokens.filter((t) => request.query.includeRevoked || !t.revokedAt).map(toWire) };
    },
  );

  api.post(
    '/tokens',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Create a token; the answer holds the token itself, shown this once',
        tags: ['tokens'],
        body: z.strictObject({ name: z.string().trim().min(1).max(100), role: z.enum(ROLES) }),
        response: { 201: z.object({ id, token: z.string(), name: z.string(), role: z.enum(ROLES) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { name, role } = request.body;
      const created = await createToken(db, callerOf(request).workspaceId, role, name);
      return reply.status(201).send({ id: created.id, token: created.token, name, role });
    },
  );

  api.delete(
    '/tokens/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Revoke a token; requests with it answer 401 from now on',
        tags: ['tokens'],
        params: idParams,
        response: { 204: z.null().describe('Revoked'), ...commonErrors },
      },
    },
    async (request, reply) => {
      const revoked = await revokeToken(db, request.params.id, callerOf(request).workspaceId);
      if (!revoked) return fail(reply, 404, 'not_found', `No live token ${request.params.id} in this workspace.`);
      return reply.status(204).send(null);
    },
  );
}
