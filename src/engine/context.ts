/**
 * What the executor needs to decide one step for one enrollment — the enrollment, its lead and
 * workspace zone, its facts, suppressions and the current visit's execution row — loaded for a
 * whole batch in one round trip (`engine_run_contexts`, src/db/runContexts.ts); definitions come from
 * the parse cache in src/core/storedDefinitions.ts (a version never changes once written).
 */
import type { Fact } from '../core/conditions.ts';
import { isDeliveryStep, type Lead, type SequenceDefinition } from '../core/definition.ts';
import { effectiveCaps, localDayBounds, type FrequencyCaps, type LeadSendsToday } from '../core/limits.ts';
import { cachedDefinition, parseStoredDefinition } from '../core/storedDefinitions.ts';
import { resolveZone } from '../core/time.ts';
import type { Queryable } from '../db/db.ts';
import { countSendsToday, type SendCountRequest } from '../db/workspaceSettings.ts';
import type { EnrollmentRecord } from '../db/enrollments.ts';
import type { ExecutionRecord } from '../db/executions.ts';
import { loadStoredRunContexts } from '../db/runContexts.ts';
import { getDefinition } from '../db/sequences.ts';

export interface RunContext {
  enrollment: EnrollmentRecord;
  lead: Lead;
  definition: SequenceDefinition;
  workspaceZone: string;
  /**
   * What the decision functions may know: the enrollment's events and lead-level events (replies
   * matched by address only) since it enrolled, oldest first; a provider timestamp ahead of our
   * clock counts from when we received it.
   */
  facts: Fact[];
  /** Channels suppressed for the lead's addresses. */
  suppressed: Set<'email' | 'sms' | 'voice'>;
  /** The execution row of the current step's current visit, if one was written. */
  execution: ExecutionRecord | undefined;
  /**
   * Delivery steps only: the lead's sends today and its caps. One object per lead in a batch,
   * shared by its enrollments, so a send the executor plans counts for the lead's next one.
   */
  sendsToday?: LeadSendsToday;
}

/** What the frequency cap needs to load: the instant "today" is judged at and the default caps. */
export interface CapOptions {
  now: Date;
  defaults: FrequencyCaps;
}

/** An enrollment whose context could not be built (its stored definition no longer parses). */
export interface BrokenContext {
  enrollment: EnrollmentRecord;
  error: unknown;
}

/**
 * The run contexts of a batch of enrollments, in one round trip; a missing id has none. One
 * whose context cannot be built is answered apart (`broken`), so it fails alone.
 */
export async function loadRunContexts(
  db: Queryable,
  enrollmentIds: string[],
  caps?: CapOptions,
): Promise<{ contexts: Map<string, RunContext>; broken: Map<string, BrokenContext> }> {
  const contexts = new Map<string, RunContext>();
  const broken = new Map<string, BrokenContext>();
  for (const stored of await loadStoredRunContexts(db, enrollmentIds)) {
    const { enrollment } = stored;
    const { sequenceId, sequenceVersion } = enrollment;
    let definition: SequenceDefinition;
    try {
      // The definition travels only on a cache miss: it is the largest part of the context.
      definition =
        cachedDefinition(sequenceId, sequenceVersion) ??
        parseStoredDefinition(sequenceId, sequenceVersion, await getDefinition(db, sequenceId, sequenceVersion));
    } catch (error) {
      broken.set(enrollment.id, { enrollment, error });
      continue;
    }
    contexts.set(enrollment.id, {
      enrollment,
      lead: stored.lead,
      definition,
      workspaceZone: stored.workspaceZone,
      facts: stored.facts,
      suppressed: new Set(stored.suppressed),
      execution: stored.execution,
    });
  }
  if (caps) await loadSendsToday(db, [...contexts.values()], caps);
  return { contexts, broken };
}

/**
 * Today's sends for every lead whose enrollment stands on a delivery step, in one query. The
 * day is the lead's own local calendar day (its zone, else the workspace's): the cap is the
 * lead's, across sequences, whatever zone a sequence's schedule is pinned to.
 */
async function loadSendsToday(db: Queryable, contexts: RunContext[], { now, defaults }: CapOptions): Promise<void> {
  const byLead = new Map<string, LeadSendsToday>();
  const requests: SendCountRequest[] = [];
  const asked = new Set<string>();
  for (const context of contexts) {
    const stepId = context.enrollment.currentStepId;
    const step = stepId ? context.definition.steps.find((s) => s.id === stepId) : undefined;
    if (!step || !isDeliveryStep(step)) continue;
    const leadId = context.enrollment.leadId;
    let sends = byLead.get(leadId);
    if (!sends) {
      const zone = resolveZone(context.lead.timezone, { ...context.definition.schedule, timezone: 'lead', fallbackTimezone: undefined }, context.workspaceZone);
      const { start, end } = localDayBounds(now, zone);
      sends = { caps: defaults, sent: {}, dayStart: start, dayEnd: end };
      byLead.set(leadId, sends);
    }
    context.sendsToday = sends;
    if (asked.has(`${leadId} ${step.type}`)) continue;
    asked.add(`${leadId} ${step.type}`);
    requests.push({ workspaceId: context.enrollment.workspaceId, leadId, channel: step.type, dayStart: sends.dayStart, dayEnd: sends.dayEnd });
  }
  for (const row of await countSendsToday(db, requests)) {
    const sends = byLead.get(row.leadId)!;
    sends.sent[row.channel] = row.sent;
    sends.caps = effectiveCaps(defaults, row.caps);
  }
}
