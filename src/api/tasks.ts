/**
 * The operator's inbox: enrollments waiting for a person — a task step, or a branch whose
 * condition is a recorded outcome (a branch waiting for a provider event needs nobody).
 * Oldest wait first. Answer one with `POST /api/sequences/enrollments/{id}/outcomes`.
 *
 * Each task names its assignee (the member its step names, else the lead's owner) and its due
 * time in the assignee's working hours (src/core/workingHours.ts; unassigned: the workspace's),
 * both worked out when the task is read, so a task follows its lead to a new owner.
 */
import { z } from 'zod';
import { taskDueAt, workingHoursOf } from '../core/workingHours.ts';
import type { Db } from '../db/db.ts';
import { listWaitingEnrollments, type WaitingEnrollmentRow } from '../db/enrollmentLists.ts';
import { getWorkspaceDetails, type WorkspaceDetails } from '../db/workspaces.ts';
import { callerOf } from './auth.ts';
import { enrollmentSchema, enrollmentToWire, stepOf } from './enrollmentWire.ts';
import { leadOwnerSchema } from './leadFields.ts';
import { commonErrors, decodeCursor, encodeCursor, fail, id, isoTime, page, pageQuery, type Api } from './wire.ts';

const taskSchema = enrollmentSchema
  .extend({
    assignee: leadOwnerSchema.nullable().describe("Who the task is for: the member the step names, else the lead's owner; null: unassigned"),
    dueAt: isoTime.nullable().describe("When it is due: the first working moment of the assignee (or, unassigned, the workspace) at or after the task opened, plus the step's dueWithin in working time"),
  })
  .meta({ id: 'Task' });

function dueAtOf(row: WaitingEnrollmentRow, workspace: WorkspaceDetails | undefined): string | null {
  const step = stepOf(row);
  const hours = workingHoursOf(row.assignee ?? {}, { timezone: workspace?.timezone ?? 'UTC', defaultSchedule: workspace?.defaultSchedule });
  try {
    return taskDueAt(row.waitingSince ?? row.stepEnteredAt, hours, step?.type === 'task' ? step.dueWithin : undefined).toISOString();
  } catch {
    return null; // hours with no working moment (every day a holiday): no due time rather than no inbox
  }
}

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
        querystring: z.object({
          ...pageQuery,
          sequenceId: id.optional(),
          waitingFor: z.enum(['task', 'branch']).optional(),
          assignee: z
            .union([z.enum(['me', 'all', 'none']), id])
            .default('all')
            .describe("`me` (a signed-in person's), a member's user id, `none` (unassigned) or `all` (the default)"),
        }),
        response: { 200: page(taskSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      const { limit, assignee } = request.query;
      if (assignee === 'me' && !request.person) {
        return fail(reply, 400, 'bad_request', "A token is nobody: `assignee=me` needs a signed-in person; pass a member's user id (GET /api/members), `none` or `all`.");
      }
      const { workspaceId } = callerOf(request);
      const rows = await listWaitingEnrollments(db, {
        workspaceId,
        waitingFor: request.query.waitingFor,
        sequenceId: request.query.sequenceId,
        assignee: assignee === 'all' ? undefined : assignee === 'me' ? request.person!.userId : assignee,
        after,
        limit: limit + 1,
      });
      const scanned = rows.slice(0, limit);
      const last = scanned[scanned.length - 1];
      const items = scanned.filter((row) => {
        const step = stepOf(row);
        return step?.type === 'task' || (step?.type === 'branch' && 'outcome' in step.when);
      });
      const workspace = items.length > 0 ? await getWorkspaceDetails(db, workspaceId) : undefined;
      return {
        items: items.map((row) => ({
          ...enrollmentToWire(row),
          assignee: row.assignee && { id: row.assignee.id, name: row.assignee.name, email: row.assignee.email },
          dueAt: dueAtOf(row, workspace),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ at: last.waitingSince ?? last.stepEnteredAt, id: last.id }) : null,
      };
    },
  );
}
