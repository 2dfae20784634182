/**
 * Looking back: a sequence's versions (and any one version's definition), and the workspace's
 * recent executions by status — the monitoring page's list of failures.
 */
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { listRecentExecutions, type ExecutionStatus } from '../db/executions.ts';
import { getDefinition, getSequence, listSequenceVersions } from '../db/sequences.ts';
import { callerOf } from './auth.ts';
import { executionSchema, executionToWire } from './enrollmentWire.ts';
import { commonErrors, fail, id, iso, isoTime, type Api } from './wire.ts';

const EXECUTION_STATUSES = ['started', 'succeeded', 'failed', 'skipped', 'unknown', 'retry_scheduled'] as const;

const versionSchema = z
  .object({ version: z.number().int(), createdAt: isoTime, enrollments: z.number().int(), current: z.boolean() })
  .meta({ id: 'SequenceVersion' });

export function historyRoutes(api: Api, db: Db) {
  api.get(
    '/sequences/:id/versions',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'The versions of a sequence, newest first, with the enrollments running on each',
        tags: ['sequences'],
        params: z.object({ id }),
        response: { 200: z.object({ items: z.array(versionSchema) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const sequence = await getSequence(db, callerOf(request).workspaceId, request.params.id);
      if (!sequence) return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      const versions = await listSequenceVersions(db, sequence.id);
      return {
        items: versions.map((v) => ({ ...v, createdAt: iso(v.createdAt)!, current: v.version === sequence.currentVersion })),
      };
    },
  );

  api.get(
    '/sequences/:id/versions/:version',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'One version of a sequence, as it was written',
        tags: ['sequences'],
        params: z.object({ id, version: z.coerce.number().int().min(1).max(1_000_000) }),
        response: { 200: z.object({ version: z.number().int(), definition: z.unknown() }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const sequence = await getSequence(db, callerOf(request).workspaceId, request.params.id);
      const definition = sequence ? await getDefinition(db, sequence.id, request.params.version) : undefined;
      if (!sequence || definition === undefined) {
        return fail(reply, 404, 'not_found', `Sequence ${request.params.id} has no version ${request.params.version}.`);
      }
      return { version: request.params.version, definition };
    },
  );

  api.get(
    '/executions',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Recent executions of the workspace, newest first (default: failed and unknown sends)',
        tags: ['enrollments'],
        querystring: z.object({
          status: z
            .union([z.enum(EXECUTION_STATUSES), z.array(z.enum(EXECUTION_STATUSES))])
            .optional()
            .describe('One or more statuses; default failed and unknown'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: {
          200: z.object({
            items: z.array(executionSchema.extend({ leadId: id, leadName: z.string().nullable(), leadEmail: z.string().nullable(), sequenceName: z.string() })),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { status, limit } = request.query;
      const statuses: ExecutionStatus[] = status === undefined ? ['failed', 'unknown'] : Array.isArray(status) ? status : [status];
      const rows = await listRecentExecutions(db, { workspaceId: callerOf(request).workspaceId, statuses, limit });
      return {
        items: rows.map((row) => ({ ...executionToWire(row), leadId: row.leadId, leadName: row.leadName, leadEmail: row.leadEmail, sequenceName: row.sequenceName })),
      };
    },
  );
}
