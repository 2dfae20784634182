/**
 * Bulk actions (docs/API.md, "Bulk actions"): enroll, pause, cancel, delete or set the owner of many leads in one
 * call, named by id or by the lead list's filter. Synchronous up to MAX_BULK leads: the leads a
 * filter matches are taken once, when the call starts (in id order), then acted on BULK_CHUNK
 * leads per transaction, so no transaction holds more than a chunk's rows. A dry run answers what
 * would happen and changes nothing. Also `GET /api/leads/count`, what "Select all N" shows.
 */
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { isMember, setLeadOwners } from '../db/leadOwners.ts';
import { countLeadsMatching, leadNamesOf, listLeadIdsMatching } from '../db/leads.ts';
import type { LeadSkip } from '../engine/bulk.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { leadFilterFields, leadFilterSchema, leadMatchOf, tokenHasNoMe } from './leadFilter.ts';
import { commonErrors, errorSchema, fail, id, type Api } from './wire.ts';

/** The most leads one call acts on; a filter matching more is refused with a sentence. */
export const MAX_BULK = 10_000;
/** Leads per transaction. */
export const BULK_CHUNK = 1_000;
/** Skipped leads named in the answer; the rest are counted by reason. */
export const MAX_SKIPPED_LISTED = 100;

const BULK_ACTIONS = ['enroll', 'pause', 'cancel', 'delete', 'owner'] as const;
type BulkAction = (typeof BULK_ACTIONS)[number];

const bulkBody = z
  .strictObject({
    action: z.enum(BULK_ACTIONS),
    leadIds: z.array(id).min(1).max(MAX_BULK).optional().describe(`The leads, by id (at most ${MAX_BULK}); or give \`filter\``),
    filter: leadFilterSchema.optional().describe("Every lead matching the list's filter when the call starts; `{}` is every lead"),
    sequenceId: id.optional().describe('For `enroll`: the active sequence'),
    ownerId: id.nullable().optional().describe('For `owner`: the member (GET /api/members) to own the leads; null leaves them unowned'),
    reason: z.string().trim().min(1).max(500).optional().describe('For `pause` and `cancel`: kept on each enrollment and its audit row'),
    dryRun: z.boolean().optional().describe('Answer what would happen, change nothing'),
  })
  .superRefine((body, ctx) => {
    if ((body.leadIds === undefined) === (body.filter === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['filter'], message: 'give either leadIds (the leads by id) or filter (every lead matching it), not both and not neither' });
    }
    if (body.action === 'enroll' && !body.sequenceId) ctx.addIssue({ code: 'custom', path: ['sequenceId'], message: 'enroll needs the sequence to enroll the leads in' });
    if (body.action === 'owner' && body.ownerId === undefined) ctx.addIssue({ code: 'custom', path: ['ownerId'], message: 'owner needs the member to own the leads (or null for unowned)' });
    if (body.action !== 'owner' && body.ownerId !== undefined) ctx.addIssue({ code: 'custom', path: ['ownerId'], message: `only owner takes an ownerId; remove it for ${body.action}` });
    if (body.action !== 'enroll' && body.sequenceId) ctx.addIssue({ code: 'custom', path: ['sequenceId'], message: `only enroll takes a sequence; remove it for ${body.action}` });
    if (body.reason && body.action !== 'pause' && body.action !== 'cancel') {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: `only pause and cancel keep a reason; remove it for ${body.action}` });
    }
  });

const bulkResult = z
  .object({
    action: z.enum(BULK_ACTIONS),
    dryRun: z.boolean(),
    matched: z.number().int().describe('Leads the call covered (found by id, or matching the filter when it started)'),
    done: z.number().int().describe('Leads changed (in a dry run: that would be)'),
    enrollments: z.number().int().describe('Enrollments paused, cancelled, stopped by deleting their lead, or created'),
    skippedCount: z.number().int(),
    skippedByReason: z.record(z.string(), z.number().int()),
    skipped: z
      .array(z.object({ leadId: z.string(), name: z.string().nullable(), reason: z.string(), message: z.string() }))
      .describe(`The first ${MAX_SKIPPED_LISTED} leads skipped, each with why`),
    chunks: z.number().int().describe(`Transactions of at most ${BULK_CHUNK} leads`),
    stopped: z.string().nullable().describe('Set when the call stopped part-way (the sequence stopped taking enrollments): what happened'),
    sentence: z.string().describe('What happened (or would), in a sentence the confirm dialog shows'),
  })
  .meta({ id: 'BulkResult' });
export type BulkResult = z.infer<typeof bulkResult>;

const plural = (count: number, word: string) => `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;

/** The sentence of a result: what happened, or (dry run) what would. */
export function bulkSentence(r: Omit<BulkResult, 'sentence'>): string {
  const will = r.dryRun;
  const running = plural(r.enrollments, 'running sequence');
  const head = `${plural(r.matched, 'lead')}: `;
  const body: Record<BulkAction, string> = {
    enroll: `${r.done.toLocaleString('en-US')} ${will ? 'will be enrolled' : 'enrolled'}`,
    pause: `${running} of ${plural(r.done, 'lead')} ${will ? 'will pause (nothing is sent until someone resumes them)' : 'paused'}`,
    cancel: `${running} of ${plural(r.done, 'lead')} ${will ? 'will stop: their scheduled steps will not run' : 'stopped'}`,
    owner: `${r.done.toLocaleString('en-US')} ${will ? 'will change owner' : 'changed owner'} (the others have that owner already)`,
    delete: `${r.done.toLocaleString('en-US')} ${will ? 'will be deleted' : 'deleted'} with their enrollments, timelines and activities; ${running} ${will ? 'will stop' : 'stopped'}${will ? '. A deletion cannot be undone' : ''}`,
  };
  const reasons = Object.entries(r.skippedByReason).map(([reason, n]) => `${n.toLocaleString('en-US')} ${reason.replace(/_/g, ' ')}`);
  const skipped = r.skippedCount > 0 ? `; ${r.skippedCount.toLocaleString('en-US')} skipped (${reasons.join(', ')})` : '';
  return `${head}${body[r.action]}${skipped}.${r.stopped ? ` ${r.stopped}` : ''}`;
}

export function bulkRoutes(api: Api, db: Db, engine: Engine) {
  api.get(
    '/leads/count',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: `How many leads match the list's filter (counted up to ${MAX_BULK + 1})`,
        tags: ['leads'],
        querystring: z.object(leadFilterFields),
        response: { 200: z.object({ count: z.number().int(), atLeast: z.boolean().describe(`true: more than ${MAX_BULK} match; count is ${MAX_BULK + 1}`) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const match = leadMatchOf(request.query, request);
      if (match === 'token_me') return fail(reply, 400, 'bad_request', tokenHasNoMe);
      const count = await countLeadsMatching(db, callerOf(request).workspaceId, match, MAX_BULK + 1);
      return { count, atLeast: count > MAX_BULK };
    },
  );

  api.post(
    '/leads/bulk',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: `Enroll, pause, cancel, delete or set the owner of up to ${MAX_BULK} leads, by id or by filter, ${BULK_CHUNK} per transaction`,
        description:
          'Give `leadIds`, or `filter` (the lead list\'s: every lead matching it when the call starts). `enroll` needs `sequenceId` and skips leads by the same rules as POST /api/sequences/{id}/enrollments; `pause` and `cancel` act on every running sequence of each lead the state machine allows, as PUT /api/sequences/enrollments/{id} does, and take a `reason`; `delete` deletes the leads with their enrollments and timelines; `owner` sets `ownerId` (a member, or null) as POST /api/leads/owner does. `dryRun: true` answers what would happen and changes nothing. A filter matching more than the cap is a 422 that says how to narrow it.',
        tags: ['leads'],
        body: bulkBody,
        response: { 200: bulkResult, 409: errorSchema, 422: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { workspaceId, actor } = caller;
      const body = request.body;
      const dryRun = body.dryRun === true;
      const skips: LeadSkip[] = [];
      let leadIds: string[];
      if (body.filter) {
        const match = leadMatchOf(body.filter, request);
        if (match === 'token_me') return fail(reply, 400, 'bad_request', tokenHasNoMe);
        leadIds = await listLeadIdsMatching(db, workspaceId, match, MAX_BULK + 1);
        if (leadIds.length > MAX_BULK) {
          return fail(
            reply,
            422,
            'too_many_leads',
            `The filter matches more than ${MAX_BULK.toLocaleString('en-US')} leads, and one bulk action takes at most ${MAX_BULK.toLocaleString('en-US')}: narrow it (a search, a status or an owner), or run it in parts.`,
          );
        }
      } else {
        const asked = [...new Set(body.leadIds!)];
        const found = new Set<string>();
        for (let i = 0; i < asked.length; i += BULK_CHUNK) {
          for (const l of await leadNamesOf(db, workspaceId, asked.slice(i, i + BULK_CHUNK))) found.add(l.id);
        }
        leadIds = asked.filter((leadId) => found.has(leadId));
        for (const leadId of asked) if (!found.has(leadId)) skips.push({ leadId, reason: 'not_found', message: 'No lead with this id in the workspace.' });
      }

      if (body.action === 'owner' && body.ownerId && !(await isMember(db, workspaceId, body.ownerId))) {
        return fail(reply, 422, 'not_a_member', `The owner ${body.ownerId} is not a member of this workspace: choose one from GET /api/members, or send null to leave the leads unowned.`);
      }
      let done = 0;
      let enrollments = 0;
      let chunks = 0;
      let stopped: string | null = null;
      for (let i = 0; i < leadIds.length; i += BULK_CHUNK) {
        const chunk = leadIds.slice(i, i + BULK_CHUNK);
        chunks += 1;
        if (body.action === 'enroll') {
          const outcome = await engine.enroll({ workspaceId, sequenceId: body.sequenceId!, leadIds: chunk, actor, dryRun });
          if (!outcome.ok) {
            if (i === 0) return fail(reply, outcome.code === 'not_found' ? 404 : outcome.code === 'invalid_definition' ? 422 : 409, outcome.code, outcome.message);
            stopped = `Stopped after ${plural(i, 'lead')}: ${outcome.message}`;
            chunks -= 1;
            break;
          }
          done += outcome.enrolled.length;
          enrollments += outcome.enrolled.length;
          skips.push(...outcome.skipped);
          continue;
        }
        if (body.action === 'owner') {
          done += await setOwnersOfChunk(db, { workspaceId, leadIds: chunk, ownerId: body.ownerId ?? null, actor, at: engine.deps.clock.now() }, dryRun);
          continue;
        }
        const result =
          body.action === 'delete'
            ? await engine.deleteLeads({ workspaceId, leadIds: chunk, dryRun })
            : await engine.actOnLeads({ workspaceId, leadIds: chunk, action: body.action, actor, reason: body.reason, dryRun });
        done += result.done.length;
        enrollments += result.enrollments;
        skips.push(...result.skipped);
      }
      if (!dryRun) request.log.info({ action: body.action, matched: leadIds.length, done, enrollments, actor }, 'bulk action');

      const listed = skips.slice(0, MAX_SKIPPED_LISTED);
      const names = new Map((await leadNamesOf(db, workspaceId, listed.map((s) => s.leadId))).map((l) => [l.id, l]));
      const skippedByReason: Record<string, number> = {};
      for (const s of skips) skippedByReason[s.reason] = (skippedByReason[s.reason] ?? 0) + 1;
      const result: Omit<BulkResult, 'sentence'> = {
        action: body.action,
        dryRun,
        matched: leadIds.length,
        done,
        enrollments,
        skippedCount: skips.length,
        skippedByReason,
        skipped: listed.map((s) => {
          const lead = names.get(s.leadId);
          const name = lead ? [lead.firstName, lead.lastName].filter(Boolean).join(' ') || lead.email || lead.phone : null;
          return { leadId: s.leadId, name, reason: s.reason, message: s.message };
        }),
        chunks,
        stopped,
      };
      return { ...result, sentence: bulkSentence(result) };
    },
  );
}


/** A dry run's transaction is rolled back with the count it would have changed. */
class RolledBack extends Error {
  constructor(readonly changed: number) {
    super('dry run');
  }
}

/** Sets the owner of one chunk of leads (the same audited statement as POST /api/leads/owner); a dry run counts and rolls back. */
async function setOwnersOfChunk(db: Db, change: Parameters<typeof setLeadOwners>[1] & { leadIds: readonly string[] }, dryRun: boolean): Promise<number> {
  try {
    return await db.transaction(async (tx) => {
      const changed = await setLeadOwners(tx, change);
      if (dryRun) throw new RolledBack(changed);
      return changed;
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.changed;
    throw error;
  }
}
