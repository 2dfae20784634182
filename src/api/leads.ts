/**
 * Leads: create, list (newest first, cursor-paged, searchable), get, patch, delete. Emails are
 * unique per workspace (case-insensitively): a second lead with the same email is a 409; so is a
 * second lead with the same `externalId` (the CRM's id).
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import type { Engine } from '../engine/engine.ts';
import { deleteLead, findLeadByKey, getLead, insertNewLeads, listLeads, updateLead } from '../db/leads.ts';
import { isMember, listOwnerChanges, recordInitialOwners, setLeadOwners } from '../db/leadOwners.ts';
import { callerOf } from './auth.ts';
import { leadListItemSchema, leadOwnerSchema, leadPatchSchema, leadSchema, leadToWire, newLeadSchema } from './leadFields.ts';
import { leadFilterFields, leadMatchOf, tokenHasNoMe } from './leadFilter.ts';
import { listLiveEnrollmentsOfLeads } from '../db/enrollmentLists.ts';
import { commonErrors, decodeCursor, errorSchema, fail, id, idParams, iso, isoTime, page, pageOf, pageQuery, type Api } from './wire.ts';

export const notAMember = (ownerId: string) =>
  `The owner ${ownerId} is not a member of this workspace: choose one from GET /api/members, or send null to leave the lead unowned.`;

const BULK_OWNER_LIMIT = 10_000;

class UnreachablePatch extends Error {}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

/** A patch raises on the CRM id's unique index (migration 010) as on the email's. */
function isExternalIdConflict(error: unknown): boolean {
  const e = error as { constraint?: string; message?: string } | null;
  return isUniqueViolation(error) && (e?.constraint === 'leads_workspace_external_id' || /leads_workspace_external_id/.test(String(e?.message)));
}

export function leadRoutes(api: Api, db: Db, engine: Engine) {
  api.post(
    '/leads',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Create a lead',
        tags: ['leads'],
        body: newLeadSchema,
        response: { 201: leadSchema, 409: errorSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId, actor } = callerOf(request);
      const ownerId = request.body.ownerId ?? null;
      if (ownerId && !(await isMember(db, workspaceId, ownerId))) return fail(reply, 422, 'not_a_member', notAMember(ownerId));
      const lead = await db.transaction(async (tx) => {
        const [row] = await insertNewLeads(tx, workspaceId, [request.body]);
        if (row) await recordInitialOwners(tx, { workspaceId, leads: [row], actor, at: engine.deps.clock.now() });
        return row;
      });
      const { externalId } = request.body;
      if (!lead && externalId && (await findLeadByKey(db, workspaceId, { externalId }))) {
        return fail(reply, 409, 'duplicate_external_id', `A lead with the externalId ${externalId} already exists.`);
      }
      if (!lead) return fail(reply, 409, 'duplicate_email', `A lead with the email ${request.body.email} already exists.`);
      return reply.status(201).send(leadToWire(lead));
    },
  );

  api.get(
    '/leads',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'List leads, newest first',
        tags: ['leads'],
        querystring: z.object({ ...pageQuery, ...leadFilterFields }),
        response: { 200: page(leadListItemSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      const match = leadMatchOf(request.query, request);
      if (match === 'token_me') return fail(reply, 400, 'bad_request', tokenHasNoMe);
      const rows = await listLeads(db, {
        workspaceId: callerOf(request).workspaceId,
        ...match,
        after,
        limit: request.query.limit + 1,
      });
      const { items, nextCursor } = pageOf(rows, request.query.limit, (l) => l.createdAt);
      const live = await listLiveEnrollmentsOfLeads(db, callerOf(request).workspaceId, items.map((l) => l.id));
      return {
        items: items.map((lead) => ({
          ...leadToWire(lead),
          liveEnrollments: live
            .filter((e) => e.leadId === lead.id)
            .map((e) => ({
              id: e.id,
              sequenceId: e.sequenceId,
              sequenceName: e.sequenceName,
              status: e.status,
              currentStepId: e.currentStepId,
              nextRunAt: e.status === 'paused' ? null : iso(e.nextExecutionAt),
            })),
        })),
        nextCursor,
      };
    },
  );

  api.get(
    '/leads/:id',
    {
      config: { minRole: 'viewer' },
      schema: { summary: 'Get a lead', tags: ['leads'], params: idParams, response: { 200: leadSchema, ...commonErrors } },
    },
    async (request, reply) => {
      const lead = await getLead(db, callerOf(request).workspaceId, request.params.id);
      if (!lead) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      return leadToWire(lead);
    },
  );

  api.patch(
    '/leads/:id',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Change some fields of a lead (null clears one)',
        tags: ['leads'],
        params: idParams,
        body: leadPatchSchema,
        response: { 200: leadSchema, 409: errorSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { ownerId, ...fields } = request.body;
      if (ownerId && !(await isMember(db, caller.workspaceId, ownerId))) return fail(reply, 422, 'not_a_member', notAMember(ownerId));
      try {
        // The owner and the fields change together or not at all; a refused field (a failed
        // statement ends the transaction) is thrown out of it and answered below.
        const lead =
          ownerId === undefined
            ? await updateLead(db, caller.workspaceId, request.params.id, fields)
            : await db
                .transaction(async (tx) => {
                  const at = engine.deps.clock.now();
                  await setLeadOwners(tx, { workspaceId: caller.workspaceId, leadIds: [request.params.id], ownerId, actor: caller.actor, at });
                  const row = await updateLead(tx, caller.workspaceId, request.params.id, fields);
                  if (row === 'unreachable') throw new UnreachablePatch();
                  return row;
                })
                .catch((error: unknown) => {
                  if (error instanceof UnreachablePatch) return 'unreachable' as const;
                  throw error;
                });
        if (!lead) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
        if (lead === 'unreachable') {
          return fail(
            reply,
            422,
            'lead_unreachable',
            'A lead needs an email or a phone number: this change would leave it with neither; set the other one in the same request, or delete the lead.',
          );
        }
        return leadToWire(lead);
      } catch (error) {
        if (isExternalIdConflict(error)) return fail(reply, 409, 'duplicate_external_id', `Another lead already has the externalId ${request.body.externalId}.`);
        if (isUniqueViolation(error)) {
          return fail(reply, 409, 'duplicate_email', `Another lead already has the email ${request.body.email}.`);
        }
        throw error;
      }
    },
  );

  api.post(
    '/leads/owner',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Set the owner of many leads at once (one transaction)',
        description: `Up to ${BULK_OWNER_LIMIT.toLocaleString('en')} lead ids; ids of other workspaces and leads that already have the owner are left alone. Each change is audited with the caller.`,
        tags: ['leads'],
        body: z.strictObject({
          leadIds: z.array(id).min(1).max(BULK_OWNER_LIMIT).describe(`The leads (at most ${BULK_OWNER_LIMIT})`),
          ownerId: id.nullable().describe('A member (GET /api/members); null leaves the leads unowned'),
        }),
        response: { 200: z.object({ changed: z.number().int().describe('Leads whose owner this changed') }), 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId, actor } = callerOf(request);
      const { ownerId, leadIds } = request.body;
      if (ownerId && !(await isMember(db, workspaceId, ownerId))) return fail(reply, 422, 'not_a_member', notAMember(ownerId));
      const changed = await db.transaction((tx) =>
        setLeadOwners(tx, { workspaceId, leadIds: [...new Set(leadIds)], ownerId, actor, at: engine.deps.clock.now() }),
      );
      return { changed };
    },
  );

  api.get(
    '/leads/:id/owner-changes',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "Who changed a lead's owner, from whom to whom, and when (newest first, the last 100)",
        tags: ['leads'],
        params: idParams,
        response: {
          200: z.object({
            items: z.array(
              z.object({ id, from: leadOwnerSchema.nullable(), to: leadOwnerSchema.nullable(), actor: z.string().describe("A person's email or a token's name and prefix"), at: isoTime }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      if (!(await getLead(db, workspaceId, request.params.id))) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      const changes = await listOwnerChanges(db, workspaceId, request.params.id);
      return { items: changes.map((c) => ({ id: c.id, from: c.from, to: c.to, actor: c.actor, at: iso(c.at)! })) };
    },
  );

  api.post(
    '/leads/:id/convert',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Mark a lead converted: exits its enrollments whose exitOn lists converted',
        tags: ['leads'],
        params: idParams,
        response: {
          200: z.object({ lead: leadSchema, exited: z.array(z.uuid()).describe('Enrollments this ended (reason `converted`)') }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const result = await engine.convertLead({ leadId: request.params.id, workspaceId: caller.workspaceId, actor: caller.actor });
      if (!result.ok) return fail(reply, 404, 'not_found', result.message);
      const lead = await getLead(db, caller.workspaceId, request.params.id);
      if (!lead) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      return { lead: leadToWire(lead), exited: result.exited };
    },
  );

  api.delete(
    '/leads/:id',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Delete a lead with its enrollments and timeline',
        tags: ['leads'],
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...commonErrors },
      },
    },
    async (request, reply) => {
      const deleted = await deleteLead(db, callerOf(request).workspaceId, request.params.id);
      if (!deleted) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      return reply.status(204).send(null);
    },
  );
}
