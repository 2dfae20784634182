/**
 * The operator's inbox: enrollments waiting for a person — a task step, or a branch whose
 * condition is a recorded outcome (a branch waiting for a provider event needs nobody).
 * Oldest wait first. Answer one with `POST /api/sequences/enrollments/{id}/outcomes`.
 */
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { listWaitingEnrollments } from '../db/enrollmentLists.ts';
import { callerOf } from './auth.ts';
import { enrollmentSchema, enrollmentToWire, stepOf } from './enrollmentWire.ts';
import { commonErrors, decodeCursor, encodeCursor, fail, id, page, pageQuery, type Api } from './wire.ts';

export function taskRoutes(api: Api, db: Db) {
  api.get(
    '/tasks',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Enrollments waiting for an operator: tasks, and branches that wait for an outcome',
        description:
          'Oldest first. A page may hold fewer than `limit` items (branches that wait for a provider event are left out after paging); follow `nextCursor` until it is null.',
        tags: ['enrollments'],
        querystring: z.object({ ...pageQuery, sequenceId: id.optional(), waitingFor: z.enum(['task', 'branch']).optional() }),
        response: { 200: page(enrollmentSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      const { limit } = request.query;
      const rows = await listWaitingEnrollments(db, {
        workspaceId: callerOf(request).workspaceId,
        waitingFor: request.query.waitingFor,
        sequenceId: request.query.sequenceId,
        after,
        limit: limit + 1,
      });
      const scanned = rows.slice(0, limit);
      const last = scanned[scanned.length - 1];
      const items = scanned.filter((row) => {
        const step = stepOf(row);
        return step?.type === 'task' || (step?.type === 'branch' && 'outcome' in step.when);
      });
      return {
        items: items.map(enrollmentToWire),
        nextCursor: rows.length > limit && last ? encodeCursor({ at: last.waitingSince ?? last.stepEnteredAt, id: last.id }) : null,
      };
    },
  );
}
