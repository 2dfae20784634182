/**
 * Custom events in (docs/INTEGRATIONS.md, "Custom events in"): another system's facts about a
 * lead — a demo booked, a trial started — posted to `POST /api/events`. They take the ingest
 * path's last half (src/engine/ingest.ts): recorded on the lead's timeline as lead-level events,
 * applied to exit rules, and every other live enrollment of the lead woken at once, so a branch
 * waiting for the event (`when: { event: "custom.demo_booked" }`) sees it on its next run.
 *
 * A batch is one transaction: every event is recorded, or none (a 4xx for one bad item is
 * decided before, by the schema). Leads are locked in id order, as the executor locks them, so
 * two batches naming the same leads cannot deadlock.
 */
import type { CustomEventType } from '../core/events.ts';
import type { Db, Queryable } from '../db/db.ts';
import { insertEvent } from '../db/events.ts';
import { findLeadByKey, insertLeadIfAbsent, type LeadKey } from '../db/leads.ts';
import type { Clock } from './clock.ts';
import { leadsEverEnrolled, sequencesTriggeredBy } from '../db/triggers.ts';
import { enrollLeads } from './enroll.ts';
import { exitOnTrigger } from './ingest.ts';

export interface CustomEventInput {
  /** How the caller names the lead; the first given of leadId, externalId, email, phone is looked up. */
  leadId?: string;
  externalId?: string;
  email?: string;
  phone?: string;
  type: CustomEventType;
  properties: Record<string, unknown>;
  occurredAt?: Date;
  idempotencyKey?: string;
  /** An unknown lead is created from the email, phone and externalId given (it needs an email or a phone). */
  upsertLead?: boolean;
}

export type CustomEventResult =
  | { status: 'recorded'; eventId: string; leadId: string; leadCreated: boolean; exited: string[]; enrolled: string[] }
  | { status: 'duplicate'; leadId: string }
  | { status: 'unknown_lead'; message: string };

/** The dedupe key of an idempotency key: per workspace, apart from the providers' event ids. */
export function customEventKey(workspaceId: string, idempotencyKey: string): string {
  return `custom:${workspaceId}:${idempotencyKey}`;
}

function keyOf(input: CustomEventInput): LeadKey {
  if (input.leadId) return { leadId: input.leadId };
  if (input.externalId) return { externalId: input.externalId };
  if (input.email) return { email: input.email };
  return { phone: input.phone! };
}

function describeKey(key: LeadKey): string {
  const [field, value] = Object.entries(key)[0]!;
  return `${field} ${JSON.stringify(value)}`;
}

async function resolveLead(
  tx: Queryable,
  workspaceId: string,
  input: CustomEventInput,
): Promise<{ leadId: string; created: boolean } | { message: string }> {
  const key = keyOf(input);
  const found = await findLeadByKey(tx, workspaceId, key);
  if (found) return { leadId: found.id, created: false };
  if (!input.upsertLead) return { message: `No lead with the ${describeKey(key)} in this workspace; send "upsertLead": true to create it.` };
  if ('leadId' in key) return { message: `No lead with the ${describeKey(key)} in this workspace; a lead id cannot be chosen, so name it by email, phone or externalId to create it.` };
  if (!input.email && !input.phone) return { message: `No lead with the ${describeKey(key)} in this workspace, and a lead needs an email or a phone number to be created; send one with the event.` };
  const inserted = await insertLeadIfAbsent(tx, workspaceId, { email: input.email ?? null, phone: input.phone ?? null, externalId: input.externalId ?? null });
  if (inserted) return { leadId: inserted.id, created: true };
  // Another lead holds the email or the CRM id (or a concurrent event created this one): use it.
  const again = (await findLeadByKey(tx, workspaceId, key)) ?? (input.email ? await findLeadByKey(tx, workspaceId, { email: input.email }) : undefined);
  if (again) return { leadId: again.id, created: false };
  return { message: `No lead with the ${describeKey(key)} could be created: another lead of this workspace holds its email or externalId.` };
}

export async function ingestCustomEvents(
  deps: { db: Db; clock: Clock; wake: () => void },
  args: { workspaceId: string; actor: string; events: CustomEventInput[] },
): Promise<CustomEventResult[]> {
  const now = deps.clock.now();
  const results = await deps.db.transaction(async (tx) => {
    const results: CustomEventResult[] = [];
    const triggers = new Map<string, Set<CustomEventType>>();
    for (const input of args.events) {
      const lead = await resolveLead(tx, args.workspaceId, input);
      if (!('leadId' in lead)) {
        results.push({ status: 'unknown_lead', message: lead.message });
        continue;
      }
      const eventId = await insertEvent(tx, {
        workspaceId: args.workspaceId,
        leadId: lead.leadId,
        enrollmentId: null,
        executionId: null,
        stepId: null,
        type: input.type,
        channel: null,
        provider: 'api',
        providerEventId: input.idempotencyKey ? customEventKey(args.workspaceId, input.idempotencyKey) : null,
        // A custom event stamped in the future would hide from conditions until then; none is.
        occurredAt: input.occurredAt && input.occurredAt.getTime() < now.getTime() ? input.occurredAt : now,
        receivedAt: now,
        data: { properties: input.properties, actor: args.actor, ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}) },
      });
      if (!eventId) {
        results.push({ status: 'duplicate', leadId: lead.leadId });
        continue;
      }
      results.push({ status: 'recorded', eventId, leadId: lead.leadId, leadCreated: lead.created, exited: [], enrolled: [] });
      const types = triggers.get(lead.leadId) ?? new Set();
      triggers.set(lead.leadId, types.add(input.type));
    }
    const exitedByLead = new Map<string, string[]>();
    for (const leadId of [...triggers.keys()].sort()) {
      const exited: string[] = [];
      for (const trigger of triggers.get(leadId)!) {
        exited.push(...(await exitOnTrigger(tx, { leadId, trigger, now, actor: args.actor, wakeOthers: true })));
      }
      exitedByLead.set(leadId, exited);
    }
    // A lead's exits are reported on its first recorded event of the batch.
    for (const result of results) {
      if (result.status !== 'recorded') continue;
      result.exited = exitedByLead.get(result.leadId) ?? [];
      exitedByLead.delete(result.leadId);
    }
    return results;
  });
  if (results.some((r) => r.status === 'recorded')) deps.wake();
  await startTriggeredSequences(deps, args, results);
  return results;
}

/**
 * Enrolls the leads of the recorded events in the active sequences their type triggers, after
 * the events are committed (enrolling is its own transaction, with all of enrollment's checks:
 * suppressions, addresses, templates, one live enrollment per lead and sequence). A trigger
 * without `reentry` leaves out a lead enrolled in the sequence before, whatever became of it.
 * A crash between the two commits loses the enrollment, not the event (docs/INTEGRATIONS.md).
 */
async function startTriggeredSequences(
  deps: { db: Db; clock: Clock; wake: () => void },
  args: { workspaceId: string; actor: string; events: CustomEventInput[] },
  results: CustomEventResult[],
): Promise<void> {
  const recorded = results.flatMap((result, index) => (result.status === 'recorded' ? [{ result, type: args.events[index]!.type }] : []));
  const sequences = await sequencesTriggeredBy(deps.db, args.workspaceId, [...new Set(recorded.map((r) => r.type))]);
  for (const sequence of sequences) {
    const mine = recorded.filter((r) => r.type === sequence.event);
    const before = sequence.reentry ? new Set<string>() : await leadsEverEnrolled(deps.db, sequence.sequenceId, mine.map((r) => r.result.leadId));
    const leadIds = [...new Set(mine.map((r) => r.result.leadId))].filter((id) => !before.has(id));
    if (leadIds.length === 0) continue;
    const outcome = await enrollLeads(deps, { workspaceId: args.workspaceId, sequenceId: sequence.sequenceId, leadIds, actor: `${args.actor} (${sequence.event})` });
    if (!outcome.ok) continue;
    for (const { leadId, enrollmentId } of outcome.enrolled) {
      const first = mine.find((r) => r.result.leadId === leadId);
      first?.result.enrolled.push(enrollmentId);
    }
  }
}
