/**
 * Tools around a sequence: validate a definition without saving it, preview one lead's run
 * (the same dry run as `touchpoint simulate`), and the stats (./stats.ts).
 */
import { z } from 'zod';
import { REPLY_CLASSES } from '../core/sentiment.ts';
import { STEP_TYPES, eventTypeSchema, isValidZone, sequenceDefinitionSchema } from '../core/definition.ts';
import { simulate } from '../core/simulate.ts';
import { abDecisionsOf, latestEnrollmentId } from '../db/variantStats.ts';
import { runTimeProblems, validateDefinition } from '../core/validate.ts';
import { NoOpeningError } from '../core/time.ts';
import type { Db } from '../db/db.ts';
import { getLead } from '../db/leads.ts';
import { getDefinition, getSequence } from '../db/sequences.ts';
import { getWorkspace } from '../db/workspaces.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { definitionBody, problemSchema } from './sequences.ts';
import { sequenceStatsRoutes } from './stats.ts';
import { commonErrors, errorSchema, fail, id, idParams, isoTime, type Api } from './wire.ts';

const inlineLead = z.strictObject({
  email: z.string().max(320).nullish(),
  phone: z.string().max(40).nullish(),
  timezone: z.string().refine(isValidZone, { message: 'is not a known IANA time zone' }).nullish(),
  firstName: z.string().max(200).nullish(),
  lastName: z.string().max(200).nullish(),
  company: z.string().max(200).nullish(),
  title: z.string().max(200).nullish(),
  customFields: z.record(z.string(), z.unknown()).optional(),
});

const previewBody = z
  .strictObject({
    leadId: id.optional(),
    lead: inlineLead.optional(),
    events: z
      .array(
        z.strictObject({
          type: eventTypeSchema,
          at: isoTime,
          step: z.string().max(64).optional(),
          outcome: z.string().max(100).optional(),
          text: z.string().max(20_000).optional().describe("A reply's words, classified by the rules as a landing reply is"),
          replyClass: z.enum(REPLY_CLASSES).optional().describe("A reply's class as given (overrides text)"),
        }),
      )
      .max(100)
      .default([]),
    start: isoTime.optional().describe('When the enrollment would start; default now'),
    version: z.number().int().min(1).optional().describe('Default: the current version'),
  })
  .refine((b) => (b.leadId === undefined) !== (b.lead === undefined), { message: 'Give either leadId or lead (an inline lead), not both.' });

const previewEntry = z.object({
  at: isoTime,
  stepId: z.string().nullable(),
  type: z.enum(STEP_TYPES).nullable(),
  action: z.enum(['send', 'wait', 'branch', 'task', 'end', 'skip', 'exit']),
  detail: z.string(),
  variant: z
    .string()
    .optional()
    .describe("Sends of a step with A/B variants: the variant shown — the lead's own when it is enrolled (leadId), else the winner or the first, the split in `detail`"),
});

export function sequenceToolRoutes(api: Api, db: Db, engine: Engine) {
  api.post(
    '/sequences/validate',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Validate a definition without saving it',
        tags: ['sequences'],
        body: definitionBody,
        response: { 200: z.object({ ok: z.boolean(), problems: z.array(problemSchema), warnings: z.array(problemSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const result = validateDefinition(request.body, { now: engine.deps.clock.now() });
      return result.ok ? { ok: true, problems: [], warnings: result.warnings } : { ok: false, problems: result.problems, warnings: result.warnings };
    },
  );

  api.post(
    '/sequences/:id/preview',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "Dry-run the sequence for one lead with hypothetical events: the projected timeline",
        tags: ['sequences'],
        params: idParams,
        body: previewBody,
        response: { 200: z.object({ sequenceId: id, version: z.number().int(), entries: z.array(previewEntry) }), 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const sequence = await getSequence(db, caller.workspaceId, request.params.id);
      if (!sequence) return fail(reply, 404, 'not_found', `Sequence ${request.params.id} does not exist.`);
      const body = request.body;
      const version = body.version ?? sequence.currentVersion;
      const stored = await getDefinition(db, sequence.id, version);
      if (stored === undefined) return fail(reply, 404, 'not_found', `Sequence ${sequence.id} has no version ${version}.`);
      let lead;
      if (body.leadId) {
        lead = await getLead(db, caller.workspaceId, body.leadId);
        if (!lead) return fail(reply, 404, 'not_found', `Lead ${body.leadId} does not exist.`);
      } else {
        lead = { id: 'preview-lead', ...body.lead };
      }
      const start = body.start ? new Date(body.start) : engine.deps.clock.now();
      // A version saved before today's rules can hold what would fail when it runs.
      const problems = runTimeProblems(stored, start);
      if (problems.length > 0) {
        const first = problems[0]!;
        return fail(reply, 422, 'invalid_definition', `Version ${version} of the sequence cannot run: ${first.path}: ${first.message}`, { problems, warnings: [] });
      }
      const [workspace, enrollmentId, decisions] = await Promise.all([
        getWorkspace(db, caller.workspaceId),
        // An enrolled lead's A/B assignments are seeded by its enrollment: the preview names them.
        body.leadId ? latestEnrollmentId(db, caller.workspaceId, sequence.id, body.leadId) : undefined,
        abDecisionsOf(db, [sequence.id]),
      ]);
      let entries;
      try {
        entries = simulate({
          definition: sequenceDefinitionSchema.parse(stored),
          lead,
          start,
          events: body.events.map((e) => ({ ...e, at: new Date(e.at) })),
          workspaceZone: workspace?.timezone,
          enrollmentId,
          winners: Object.fromEntries(decisions.map((d) => [d.stepId, d.variant])),
        });
      } catch (error) {
        // Time math that cannot be done (no opening in the schedule, a date out of range).
        if (!(error instanceof NoOpeningError) && !(error instanceof RangeError)) throw error;
        return fail(reply, 422, 'invalid_definition', `The sequence cannot be previewed: its schedule or durations cannot be met (${error.message}); fix the schedule or the durations and save a new version.`);
      }
      return { sequenceId: sequence.id, version, entries };
    },
  );

  sequenceStatsRoutes(api, db);
}
