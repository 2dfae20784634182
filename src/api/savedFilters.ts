/**
 * Saved filters (docs/API.md, "Saved filters"): a person's (or a token's) named filters of the
 * Leads page, each private or shared with the workspace. Names are unique per owner. Everyone in
 * the workspace sees and applies a shared filter; only its owner or an admin changes or deletes
 * it. Another person's private filter does not exist for anyone else (404), admins included.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import {
  deleteSavedFilter,
  getSavedFilter,
  insertSavedFilter,
  isSavedFilterNameTaken,
  listSavedFilters,
  updateSavedFilter,
  type SavedFilterRecord,
} from '../db/savedFilters.ts';
import { callerOf } from './auth.ts';
import { leadFilterSchema } from './leadFilter.ts';
import { commonErrors, errorSchema, fail, idParams, iso, isoTime, type Api } from './wire.ts';

const nameField = z.string().trim().min(1).max(100);

const savedFilterSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    filter: leadFilterSchema,
    shared: z.boolean(),
    owner: z.string().describe('Who saved it (an email, or a token name)'),
    mine: z.boolean().describe("The caller's own"),
    canEdit: z.boolean().describe('The caller may rename, change, share or delete it (its owner, or an admin for a shared one)'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'SavedFilter' });

/** Whose a filter is: a person by user id, a token by its name. */
function ownerOf(request: FastifyRequest): string {
  const caller = callerOf(request);
  if (request.person) return `user:${request.person.userId}`;
  return `token:${caller.tokenName ?? caller.actor}`;
}

function toWire(row: SavedFilterRecord, request: FastifyRequest) {
  const mine = row.owner === ownerOf(request);
  return {
    id: row.id,
    name: row.name,
    filter: leadFilterSchema.parse(row.filter),
    shared: row.shared,
    owner: row.ownerLabel,
    mine,
    canEdit: mine || callerOf(request).role === 'admin',
    createdAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
  };
}

export function savedFilterRoutes(api: Api, db: Db, now: () => Date) {
  const nameTaken = (reply: FastifyReply, name: string) =>
    fail(reply, 409, 'duplicate_name', `You already have a saved filter named "${name}"; choose another name, or change that one.`);

  /** The filter the caller may change, or the answer that says why not. */
  const editable = async (request: FastifyRequest, id: string, reply: FastifyReply) => {
    const caller = callerOf(request);
    const row = await getSavedFilter(db, caller.workspaceId, ownerOf(request), id);
    if (!row) {
      fail(reply, 404, 'not_found', `Saved filter ${id} does not exist.`);
      return undefined;
    }
    if (row.owner !== ownerOf(request) && caller.role !== 'admin') {
      fail(reply, 403, 'forbidden', `The filter "${row.name}" is shared by ${row.ownerLabel}; only they or an admin can change or delete it. Save a copy under your own name instead.`);
      return undefined;
    }
    return row;
  };

  api.get(
    '/saved-filters',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "The caller's saved filters and those shared with the workspace, by name",
        tags: ['saved filters'],
        response: { 200: z.object({ items: z.array(savedFilterSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const rows = await listSavedFilters(db, callerOf(request).workspaceId, ownerOf(request));
      return { items: rows.map((row) => toWire(row, request)) };
    },
  );

  api.post(
    '/saved-filters',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Save a filter of the Leads page under a name (unique per owner); `shared` shows it to the whole workspace',
        tags: ['saved filters'],
        body: z.strictObject({ name: nameField, filter: leadFilterSchema, shared: z.boolean().default(false) }),
        response: { 201: savedFilterSchema, 409: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      try {
        const row = await insertSavedFilter(db, {
          workspaceId: caller.workspaceId,
          owner: ownerOf(request),
          ownerLabel: caller.actor,
          name: request.body.name,
          filter: request.body.filter,
          shared: request.body.shared,
          now: now(),
        });
        return reply.status(201).send(toWire(row, request));
      } catch (error) {
        if (isSavedFilterNameTaken(error)) return nameTaken(reply, request.body.name);
        throw error;
      }
    },
  );

  api.patch(
    '/saved-filters/:id',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Rename a saved filter, change its filter, or share or unshare it (its owner, or an admin for a shared one)',
        tags: ['saved filters'],
        params: idParams,
        body: z
          .strictObject({ name: nameField.optional(), filter: leadFilterSchema.optional(), shared: z.boolean().optional() })
          .refine((b) => b.name !== undefined || b.filter !== undefined || b.shared !== undefined, { message: 'give at least one of name, filter or shared' }),
        response: { 200: savedFilterSchema, 409: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const row = await editable(request, request.params.id, reply);
      if (!row) return reply;
      try {
        const updated = await updateSavedFilter(db, callerOf(request).workspaceId, row.id, { ...request.body, now: now() });
        if (!updated) return fail(reply, 404, 'not_found', `Saved filter ${request.params.id} does not exist.`);
        return toWire(updated, request);
      } catch (error) {
        if (isSavedFilterNameTaken(error)) return nameTaken(reply, request.body.name ?? row.name);
        throw error;
      }
    },
  );

  api.delete(
    '/saved-filters/:id',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Delete a saved filter (its owner, or an admin for a shared one)',
        tags: ['saved filters'],
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...commonErrors },
      },
    },
    async (request, reply) => {
      const row = await editable(request, request.params.id, reply);
      if (!row) return reply;
      await deleteSavedFilter(db, callerOf(request).workspaceId, row.id);
      return reply.status(204).send(null);
    },
  );
}
