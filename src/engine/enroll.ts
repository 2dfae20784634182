/**
 * Enrolling leads in a sequence: every lead is either enrolled or skipped with a reason
 * (already enrolled, suppressed, missing address, template variable missing), in one
 * transaction, the first step already moved into the lead's window.
 */
import { missingVariablesForLead } from '../core/content.ts';
import { firstDueAt } from '../core/decide.ts';
import { isDeliveryStep, type Channel } from '../core/definition.ts';
import { resolveZone } from '../core/time.ts';
import { runTimeProblems } from '../core/validate.ts';
import type { Db, Queryable } from '../db/db.ts';
import { getLeadsToEnroll, insertEnrollments, type NewEnrollment } from '../db/enrollments.ts';
import { getDefinition, getSequence } from '../db/sequences.ts';
import { getWorkspace } from '../db/workspaces.ts';
import type { Clock } from './clock.ts';
import { parseStoredDefinition } from '../core/storedDefinitions.ts';

export type SkipReason = 'not_found' | 'already_enrolled' | 'suppressed' | 'missing_address' | 'template_variable_missing';

export interface EnrollResult {
  /** `skipsChannels`: channels the lead has no address for, whose steps it will skip (`skipMissingChannels`). */
  enrolled: Array<{ leadId: string; enrollmentId: string; skipsChannels: Channel[] }>;
  skipped: Array<{ leadId: string; reason: SkipReason; message: string }>;
}

export type EnrollOutcome =
  | ({ ok: true } & EnrollResult)
  | { ok: false; code: 'not_found' | 'conflict' | 'invalid_definition'; message: string };

export async function enrollLeads(
  deps: { db: Db; clock: Clock; wake: () => void },
  args: { workspaceId: string; sequenceId: string; leadIds: string[]; actor: string; dryRun?: boolean },
): Promise<EnrollOutcome> {
  const now = deps.clock.now();
  const outcome = await rolledBackIf(args.dryRun === true, deps.db, async (tx): Promise<EnrollOutcome> => {
    const sequence = await getSequence(tx, args.workspaceId, args.sequenceId);
    if (!sequence) return { ok: false, code: 'not_found', message: `Sequence ${args.sequenceId} does not exist.` };
    if (sequence.status !== 'active') {
      return {
        ok: false,
        code: 'conflict',
        message: `Sequence "${sequence.name}" is ${sequence.status}; only active sequences take enrollments. Activate it first.`,
      };
    }
    const stored = await getDefinition(tx, sequence.id, sequence.currentVersion);
    // A version saved before today's rules may never be able to run (a schedule that no longer
    // opens, a template that reads files): refuse it whole rather than fail every lead later.
    const [unrunnable] = runTimeProblems(stored, now);
    if (unrunnable) {
      return {
        ok: false,
        code: 'invalid_definition',
        message: `Sequence "${sequence.name}" cannot run: ${unrunnable.path}: ${unrunnable.message} Save a fixed version, then enroll.`,
      };
    }
    const definition = parseStoredDefinition(sequence.id, sequence.currentVersion, stored);
    const workspace = await getWorkspace(tx, args.workspaceId);
    const uniqueIds = [...new Set(args.leadIds)];
    const channels = new Set<Channel>(
      definition.steps.flatMap((s) => (isDeliveryStep(s) ? [s.type] : [])),
    );
    const leads = new Map(
      (await getLeadsToEnroll(tx, { workspaceId: args.workspaceId, ids: uniqueIds, channels: [...channels] })).map((l) => [l.id, l]),
    );

    const result: EnrollResult = { enrolled: [], skipped: [] };
    const candidates: NewEnrollment[] = [];
    const skipsByLead = new Map<string, Channel[]>();
    const firstStep = definition.steps[0]!.id;
    // The first due time depends only on the definition, the step, now and the zone: many
    // leads share a zone, so it is computed once per zone in the batch.
    const dueByZone = new Map<string, Date>();
    for (const leadId of uniqueIds) {
      const lead = leads.get(leadId);
      const skip = (reason: SkipReason, message: string) => result.skipped.push({ leadId, reason, message });
      if (!lead) {
        skip('not_found', 'No lead with this id in the workspace.');
        continue;
      }
      if (lead.suppressed) {
        skip('suppressed', 'The lead has opted out or bounced on a channel this sequence uses.');
        continue;
      }
      const missing = [...channels].filter((c) => !(c === 'email' ? lead.email : lead.phone));
      if (missing.length > 0 && (!definition.skipMissingChannels || missing.length === channels.size)) {
        const lacks = [...new Set(missing.map((c) => (c === 'email' ? 'email address' : 'phone number')))].join(' or ');
        const tail = definition.skipMissingChannels
          ? ', so it would receive none of its steps'
          : '; this sequence refuses such leads (skipMissingChannels is false)';
        skip('missing_address', `The sequence uses ${missing.join(' and ')}, and the lead has no ${lacks}${tail}.`);
        continue;
      }
      if (missing.length > 0) skipsByLead.set(leadId, missing);
      const blank = missingVariablesForLead(definition, lead, missing);
      if (blank.length > 0) {
        skip('template_variable_missing', `The templates use ${blank.join(', ')}, empty for this lead; fill them in or add a default.`);
        continue;
      }
      const zone = resolveZone(lead.timezone, definition.schedule, workspace?.timezone);
      let dueAt = dueByZone.get(zone);
      if (dueAt === undefined) {
        dueAt = firstDueAt(definition, firstStep, now, zone);
        dueByZone.set(zone, dueAt);
      }
      candidates.push({ leadId, firstStepId: firstStep, dueAt });
    }
    const inserted = await insertEnrollments(tx, {
      workspaceId: args.workspaceId,
      sequenceId: sequence.id,
      version: sequence.currentVersion,
      now,
      actor: args.actor,
      enrollments: candidates,
      // Every row the new ones refer to was read above, in this transaction; on PGlite nothing
      // else can write until it ends (one connection), so the per-row checks would only repeat it.
      referencesHeld: deps.db.kind === 'pglite',
    });
    const insertedByLead = new Map(inserted.map((r) => [r.leadId, r.id]));
    for (const candidate of candidates) {
      const enrollmentId = insertedByLead.get(candidate.leadId);
      if (enrollmentId) result.enrolled.push({ leadId: candidate.leadId, enrollmentId, skipsChannels: skipsByLead.get(candidate.leadId) ?? [] });
      else result.skipped.push({ leadId: candidate.leadId, reason: 'already_enrolled', message: 'The lead is already live in this sequence.' });
    }
    return { ok: true, ...result };
  });
  if (outcome.ok && outcome.enrolled.length > 0 && !args.dryRun) deps.wake();
  return outcome;
}

/** What a dry run computed, carried out of its transaction by the throw that rolls it back. */
class RolledBack<T> extends Error {
  constructor(readonly value: T) {
    super('dry run: rolled back');
  }
}

/**
 * Runs `fn` in a transaction that commits, or (`dryRun`) that is rolled back once `fn` answered:
 * a dry run takes exactly the real path — every skip rule, the unique index that finds a lead
 * already enrolled — and leaves nothing behind.
 */
async function rolledBackIf<T>(dryRun: boolean, db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (!dryRun) return db.transaction(fn);
  try {
    await db.transaction(async (tx) => {
      throw new RolledBack(await fn(tx));
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.value as T;
    throw error;
  }
  throw new Error('unreachable: a dry run always rolls back');
}
