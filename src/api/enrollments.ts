/**
 * Enrollments: enroll leads, list them, read one with its executions, operator actions and
 * outcomes (through the engine, which serialises with the executor on the row lock), and a
 * lead's own enrollments. An action that answers 200 is final: no send starts after it.
 */
import { z } from 'zod';
import { OPERATOR_ACTIONS, ENROLLMENT_STATUSES } from '../core/enrollmentStatus.ts';
import { CANCEL_UNDO_WINDOW_MS } from '../core/transitions.ts';
import { CHANNELS } from '../core/definition.ts';
import type { Db } from '../db/db.ts';
import { getEnrollmentDetail, listLeadEnrollments, listSequenceEnrollments } from '../db/enrollmentLists.ts';
import { listExecutions } from '../db/executions.ts';
import { getLead } from '../db/leads.ts';
import { SEQUENCE_HOLD_REASON } from '../db/sequenceHolds.ts';
import { getSequence } from '../db/sequences.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { enrollmentSchema, enrollmentToWire, executionSchema, executionToWire, stepOf } from './enrollmentWire.ts';
import { commonErrors, decodeCursor, errorSchema, fail, id, idParams, page, pageOf, pageQuery, type Api } from './wire.ts';

export const MAX_ENROLL = 10_000;

const enrollResult = z.object({
  enrolled: z.array(
    z.object({
      leadId: id,
      enrollmentId: id,
      skipsChannels: z.array(z.enum(CHANNELS)).describe("Channels the lead has no address for: the sequence's steps on them are skipped for it (skipMissingChannels)"),
    }),
  ),
  skipped: z.array(
    z.object({
      leadId: z.string(),
      reason: z.enum(['not_found', 'already_enrolled', 'suppressed', 'missing_address', 'template_variable_missing']),
      message: z.string(),
    }),
  ),
});

export function enrollmentRoutes(api: Api, db: Db, engine: Engine) {
  const detail = async (workspaceId: string, enrollmentId: string) => {
    const row = await getEnrollmentDetail(db, workspaceId, enrollmentId);
    return row ? enrollmentToWire(row) : undefined;
  };

  api.post(
    '/sequences/:id/enrollments',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: `Enroll up to ${MAX_ENROLL} leads in one transaction: enrolled, and skipped with a reason each`,
        tags: ['enrollments'],
        params: idParams,
        body: z.strictObject({ leadIds: z.array(id).min(1).max(MAX_ENROLL) }),
        response: { 200: enrollResult, 409: errorSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const outcome = await engine.enroll({ workspaceId: caller.workspaceId, sequenceId: request.params.id, leadIds: request.body.leadIds, actor: caller.actor });
      if (!outcome.ok) return fail(reply, outcome.code === 'not_found' ? 404 : outcome.code === 'invalid_definition' ? 422 : 409, outcome.code, outcome.message);
      return { enrolled: outcome.enrolled, skipped: outcome.skipped };
    },
  );

  api.get(
    '/sequences/:id/enrollments',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "A sequence's enrollments, newest first",
        tags: ['enrollments'],
        params: idParams,
        querystring: z.object({ ...pageQuery, status: z.enum(ENROLLMENT_STATUSES).optional() }),
        response: { 200: page(enrollmentSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      if (!(await getSequence(db, caller.workspaceId, request.params.id))) {
        return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      }
      const rows = await listSequenceEnrollments(db, {
        workspaceId: caller.workspaceId,
        sequenceId: request.params.id,
        status: request.query.status,
        after,
        limit: request.query.limit + 1,
      });
      const { items, nextCursor } = pageOf(rows, request.query.limit, (e) => e.enrolledAt);
      return { items: items.map(enrollmentToWire), nextCursor };
    },
  );

  api.get(
    '/sequences/enrollments/:id',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'One enrollment: status, current step, next run, the executions so far',
        tags: ['enrollments'],
        params: idParams,
        response: { 200: enrollmentSchema.extend({ executions: z.array(executionSchema) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const enrollment = await detail(callerOf(request).workspaceId, request.params.id);
      if (!enrollment) return fail(reply, 404, 'not_found', `Enrollment ${request.params.id} does not exist.`);
      const executions = await listExecutions(db, enrollment.id);
      return { ...enrollment, executions: executions.map(executionToWire) };
    },
  );

  api.put(
    '/sequences/enrollments/:id',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Pause, resume, cancel, skip the current step, mark converted, or retry a failed enrollment',
        description:
          'Answers once final: after a 200 no further send happens for a paused, cancelled or converted enrollment. `retry` (only from `failed`) puts it back to `active` on its current step, due now, its count of consecutive failures reset. An action the state machine forbids is a 409 that says why.',
        tags: ['enrollments'],
        params: idParams,
        body: z.strictObject({ action: z.enum(OPERATOR_ACTIONS), reason: z.string().trim().min(1).max(500).optional() }),
        response: { 200: enrollmentSchema, 409: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { action, reason } = request.body;
      if (action === 'resume') {
        const current = await getEnrollmentDetail(db, caller.workspaceId, request.params.id);
        if (current?.statusReason === SEQUENCE_HOLD_REASON) {
          const sequence = await getSequence(db, caller.workspaceId, current.sequenceId);
          if (sequence?.status === 'paused') {
            return fail(reply, 409, 'conflict', `Cannot resume an enrollment held by its paused sequence "${sequence.name}"; activate the sequence instead.`);
          }
        }
      }
      const result = await engine.act({ enrollmentId: request.params.id, workspaceId: caller.workspaceId, action, actor: caller.actor, reason });
      if (!result.ok) return fail(reply, result.code === 'not_found' ? 404 : 409, result.code, result.message);
      return (await detail(caller.workspaceId, result.enrollment.id))!;
    },
  );

  api.post(
    '/sequences/enrollments/:id/undo-cancel',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: `Undo a cancel made less than ${CANCEL_UNDO_WINDOW_MS / 1000} seconds ago`,
        description:
          'The enrollment goes back where it was: a paused one stays paused; an active or waiting one becomes `active` on its current step, due now (a task or branch waits again from when it entered the step). A 409 says why not: the window passed, its last change is not the cancel, or the lead was enrolled in the sequence again.',
        tags: ['enrollments'],
        params: idParams,
        response: { 200: enrollmentSchema, 409: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const result = await engine.undoCancel({ enrollmentId: request.params.id, workspaceId: caller.workspaceId, actor: caller.actor });
      if (!result.ok) return fail(reply, result.code === 'not_found' ? 404 : 409, result.code, result.message);
      return (await detail(caller.workspaceId, result.enrollment.id))!;
    },
  );

  api.post(
    '/sequences/enrollments/:id/outcomes',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: 'Record an outcome (a task done, a call connected): unblocks a waiting task or branch at once',
        tags: ['enrollments'],
        params: idParams,
        body: z.strictObject({
          outcome: z.string().trim().min(1).max(100),
          channel: z.enum(CHANNELS).optional(),
          note: z.string().max(5000).optional(),
        }),
        response: { 200: enrollmentSchema, 409: errorSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const current = await getEnrollmentDetail(db, caller.workspaceId, request.params.id);
      if (!current) return fail(reply, 404, 'not_found', `Enrollment ${request.params.id} does not exist.`);
      const step = stepOf(current);
      if (current.waitingFor === 'task' && step?.type === 'task' && !step.outcomes.includes(request.body.outcome)) {
        return fail(reply, 422, 'unknown_outcome', `The task "${step.title}" takes the outcomes ${step.outcomes.join(', ')}; "${request.body.outcome}" is not one of them.`);
      }
      const result = await engine.recordOutcome({ enrollmentId: current.id, workspaceId: caller.workspaceId, ...request.body, actor: caller.actor });
      if (!result.ok) return fail(reply, result.code === 'not_found' ? 404 : 409, result.code, result.message);
      return (await detail(caller.workspaceId, result.enrollment.id))!;
    },
  );

  api.get(
    '/leads/:id/sequences',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "The lead's enrollments with current step and next run",
        tags: ['enrollments'],
        params: idParams,
        response: { 200: z.object({ items: z.array(enrollmentSchema) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!(await getLead(db, caller.workspaceId, request.params.id))) return fail(reply, 404, 'not_found', `Lead ${request.params.id} does not exist.`);
      const rows = await listLeadEnrollments(db, caller.workspaceId, request.params.id);
      return { items: rows.map(enrollmentToWire) };
    },
  );
}
