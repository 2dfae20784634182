/**
 * Sequences: create (a draft), list, get, PUT (a new version; running enrollments stay on
 * theirs), PATCH status. Pausing a sequence holds its live enrollments and answers once no send
 * of it is in flight; re-activating releases exactly the ones it held.
 */
import { z } from 'zod';
import { validateDefinition } from '../core/validate.ts';
import { withWorkspaceDefaults } from '../core/workspaceDefaults.ts';
import { existingMailboxIds } from '../db/mailboxes.ts';
import { getWorkspaceDetails } from '../db/workspaces.ts';
import type { Db } from '../db/db.ts';
import {
  countLiveEnrollments,
  countSendsInFlight,
  holdSequenceEnrollments,
  releaseSequenceEnrollments,
} from '../db/sequenceHolds.ts';
import {
  SEQUENCE_STATUSES,
  addSequenceVersion,
  createSequence,
  getDefinition,
  getSequence,
  listSequences,
  lockSequence,
  setSequenceStatus,
  type SequenceRecord,
  type SequenceStatus,
} from '../db/sequences.ts';
import type { Engine } from '../engine/engine.ts';
import { waitForSendsInFlight } from '../engine/inFlight.ts';
import { callerOf } from './auth.ts';
import { commonErrors, decodeCursor, errorSchema, fail, id, idParams, iso, isoTime, page, pageOf, pageQuery, type Api } from './wire.ts';

export const problemSchema = z.object({ path: z.string(), message: z.string() }).meta({ id: 'DefinitionProblem' });

export const definitionBody = z
  .record(z.string(), z.unknown())
  .describe('A sequence definition (docs/SEQUENCES.md); every problem is answered with its JSON path');

export const sequenceSchema = z
  .object({
    id,
    name: z.string(),
    status: z.enum(SEQUENCE_STATUSES),
    currentVersion: z.number().int(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Sequence' });

const sequenceWithDefinition = sequenceSchema.extend({
  definition: z.unknown().describe('The current version, as written'),
  warnings: z.array(problemSchema).optional(),
  enrollmentsHeld: z.number().int().optional().describe('PATCH to paused: enrollments held; to active: released'),
});

export const sequenceToWire = (s: SequenceRecord) => ({
  id: s.id,
  name: s.name,
  status: s.status,
  currentVersion: s.currentVersion,
  createdAt: iso(s.createdAt)!,
  updatedAt: iso(s.updatedAt)!,
});

/** Which status changes make sense; the same status again is a no-op. */
const NEXT_STATUS: Record<SequenceStatus, readonly SequenceStatus[]> = {
  draft: ['active', 'archived'],
  active: ['paused', 'archived'],
  paused: ['active', 'archived'],
  archived: ['draft'],
};

const IN_FLIGHT_WAIT_MS = 30_000;

/** `mailboxes` must name this workspace's mailboxes (another workspace's is as unknown as a typo). */
async function mailboxProblems(db: Db, workspaceId: string, ids: string[] | undefined): Promise<Array<{ path: string; message: string }>> {
  if (!ids || ids.length === 0) return [];
  const known = await existingMailboxIds(db, workspaceId, ids);
  return ids.flatMap((id, i) => (known.has(id) ? [] : [{ path: `$.mailboxes[${i}]`, message: `Mailbox ${id} does not exist in this workspace (GET /api/mailboxes lists them).` }]));
}

export function sequenceRoutes(api: Api, db: Db, engine: Engine) {
  const invalid = 422;

  api.post(
    '/sequences',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Create a sequence (as a draft) from a definition',
        description:
          "A definition without `schedule` takes the workspace's default schedule, one without `quietHours` its default quiet hours, and a schedule without `holidays` the workspace's holidays (docs/SEQUENCES.md, \"Workspace defaults\"). The answer's `definition` is the stored one, with them.",
        tags: ['sequences'],
        body: definitionBody,
        response: { 201: sequenceWithDefinition, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      // What the definition leaves out comes from the workspace, once: the stored version carries it.
      const workspace = await getWorkspaceDetails(db, workspaceId);
      const body = workspace ? withWorkspaceDefaults(request.body, workspace) : request.body;
      const result = validateDefinition(body, { now: engine.deps.clock.now() });
      if (!result.ok) return fail(reply, invalid, 'invalid_definition', 'The sequence definition has problems.', { problems: result.problems, warnings: result.warnings });
      const missing = await mailboxProblems(db, workspaceId, result.definition.mailboxes);
      if (missing.length > 0) return fail(reply, invalid, 'invalid_definition', 'The sequence definition has problems.', { problems: missing, warnings: result.warnings });
      const sequence = await createSequence(db, workspaceId, body as never, 'draft');
      return reply.status(201).send({ ...sequenceToWire(sequence), definition: body, warnings: result.warnings });
    },
  );

  api.get(
    '/sequences',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'List sequences, newest first',
        tags: ['sequences'],
        querystring: z.object({ ...pageQuery, status: z.enum(SEQUENCE_STATUSES).optional() }),
        response: { 200: page(sequenceSchema), ...commonErrors },
      },
    },
    async (request, reply) => {
      const after = decodeCursor(request.query.cursor);
      if (after === 'invalid') return fail(reply, 400, 'invalid_cursor', 'The cursor is not one this API gave out.');
      const rows = await listSequences(db, {
        workspaceId: callerOf(request).workspaceId,
        status: request.query.status,
        after,
        limit: request.query.limit + 1,
      });
      const { items, nextCursor } = pageOf(rows, request.query.limit, (s) => s.createdAt);
      return { items: items.map(sequenceToWire), nextCursor };
    },
  );

  api.get(
    '/sequences/:id',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Get a sequence with its current definition',
        tags: ['sequences'],
        params: idParams,
        response: { 200: sequenceWithDefinition, ...commonErrors },
      },
    },
    async (request, reply) => {
      const sequence = await getSequence(db, callerOf(request).workspaceId, request.params.id);
      if (!sequence) return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      return { ...sequenceToWire(sequence), definition: await getDefinition(db, sequence.id, sequence.currentVersion) };
    },
  );

  api.put(
    '/sequences/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Save a new version; running enrollments stay on theirs',
        tags: ['sequences'],
        params: idParams,
        body: definitionBody,
        response: { 200: sequenceWithDefinition, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!(await getSequence(db, caller.workspaceId, request.params.id))) {
        return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      }
      const result = validateDefinition(request.body, { now: engine.deps.clock.now() });
      if (!result.ok) return fail(reply, invalid, 'invalid_definition', 'The sequence definition has problems.', { problems: result.problems, warnings: result.warnings });
      const missing = await mailboxProblems(db, caller.workspaceId, result.definition.mailboxes);
      if (missing.length > 0) return fail(reply, invalid, 'invalid_definition', 'The sequence definition has problems.', { problems: missing, warnings: result.warnings });
      const sequence = await addSequenceVersion(db, caller.workspaceId, request.params.id, request.body as never);
      if (!sequence) return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      return { ...sequenceToWire(sequence), definition: request.body, warnings: result.warnings };
    },
  );

  api.patch(
    '/sequences/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Change the status: draft | active | paused | archived',
        description:
          'Only active sequences take enrollments. Pausing holds every live enrollment (answered once no send of the sequence is in flight); activating again releases exactly those. Archiving needs no live enrollments.',
        tags: ['sequences'],
        params: idParams,
        body: z.strictObject({ status: z.enum(SEQUENCE_STATUSES) }),
        response: { 200: sequenceWithDefinition, 409: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const to = request.body.status;
      const now = engine.deps.clock.now();
      type Outcome = { code: 404 | 409; message: string } | { sequence: SequenceRecord; held: number };
      const outcome = await db.transaction(async (tx): Promise<Outcome> => {
        const current = await lockSequence(tx, caller.workspaceId, request.params.id);
        if (!current) return { code: 404, message: `Sequence ${request.params.id} does not exist.` };
        if (current.status === to) return { sequence: current, held: 0 };
        if (!NEXT_STATUS[current.status].includes(to)) {
          return { code: 409, message: `A ${current.status} sequence cannot become ${to}; it can become ${NEXT_STATUS[current.status].join(' or ')}.` };
        }
        if (to === 'archived') {
          const live = await countLiveEnrollments(tx, current.id);
          if (live > 0) return { code: 409, message: `The sequence has ${live} live enrollments; cancel them or let them finish before archiving.` };
        }
        const sequence = (await setSequenceStatus(tx, caller.workspaceId, current.id, to))!;
        const args = { sequenceId: current.id, actor: caller.actor, now };
        const held =
          to === 'paused' ? await holdSequenceEnrollments(tx, args) : current.status === 'paused' && to === 'active' ? await releaseSequenceEnrollments(tx, args) : 0;
        return { sequence, held };
      });
      if (!('sequence' in outcome)) return fail(reply, outcome.code, outcome.code === 404 ? 'not_found' : 'conflict', outcome.message);
      if (to === 'paused') await waitForSendsInFlight(engine.deps.clock, IN_FLIGHT_WAIT_MS, () => countSendsInFlight(db, outcome.sequence.id));
      if (to === 'active' && outcome.held > 0) engine.wake();
      return {
        ...sequenceToWire(outcome.sequence),
        definition: await getDefinition(db, outcome.sequence.id, outcome.sequence.currentVersion),
        enrollmentsHeld: outcome.held,
      };
    },
  );
}
