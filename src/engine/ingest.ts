/**
 * Events from providers (and the engine's own mock outcomes) enter here: matched to an
 * execution, enrollment and lead, deduplicated by provider event id, mirrored into
 * suppressions, applied to exit rules, and waking whatever waits for them.
 */
import { exitReason } from '../core/decide.ts';
import type { Channel, EventType } from '../core/definition.ts';
import type { Db, Queryable } from '../db/db.ts';
import { recordChange, type EnrollmentRecord, ENROLLMENT_COLUMNS } from '../db/enrollments.ts';
import { addSuppression, insertEvent, removeSuppression } from '../db/events.ts';
import { findExecutionForEvent, reconcileUnknown } from '../db/executions.ts';
import type { InboundEvent } from '../webhooks/types.ts';
import type { Clock } from './clock.ts';
import { parseStoredDefinition } from './context.ts';

export interface IngestDeps {
  db: Db;
  clock: Clock;
  wake: () => void;
}

export type IngestResult =
  | { status: 'recorded'; eventId: string; leadId: string | null; exited: number }
  | { status: 'duplicate' }
  | { status: 'unmatched' };

interface Match {
  workspaceId: string;
  leadId: string | null;
  enrollmentId: string | null;
  executionId: string | null;
  stepId: string | null;
  address?: { channel: Channel; value: string };
  /** When we sent the message the event is about. */
  sentAt?: Date;
}

export function channelOf(type: EventType): Channel | null {
  const prefix = type.split('.')[0];
  if (prefix === 'email' || prefix === 'sms') return prefix;
  if (prefix === 'call') return 'voice';
  return null;
}

async function match(db: Queryable, event: InboundEvent): Promise<Match | undefined> {
  const execution =
    (await findExecutionForEvent(db, { executionId: event.executionId, providerMessageId: event.providerMessageId })) ??
    (await firstExecutionRepliedTo(db, event.inReplyTo ?? []));
  if (execution) {
    const [lead] = await db.query<{ email: string | null; phone: string | null }>('select email, phone from leads where id = $1', [
      execution.leadId,
    ]);
    const channel = event.address?.channel ?? channelOf(event.type) ?? 'email';
    const value = event.address?.value ?? (channel === 'email' ? lead?.email : lead?.phone) ?? undefined;
    return {
      workspaceId: execution.workspaceId,
      leadId: execution.leadId,
      enrollmentId: execution.enrollmentId,
      executionId: execution.id,
      stepId: execution.stepId,
      address: value ? { channel, value } : undefined,
      sentAt: execution.startedAt,
    };
  }
  if (!event.address) return undefined;
  // Only an address: the lead it belongs to that we most recently wrote to.
  const column = event.address.channel === 'email' ? 'lower(l.email)' : 'l.phone';
  const value = event.address.channel === 'email' ? event.address.value.toLowerCase() : event.address.value;
  const [lead] = await db.query<{ id: string; workspaceId: string }>(
    `select l.id, l.workspace_id as "workspaceId" from leads l
     left join lateral (select max(started_at) as last from sequence_executions x where x.lead_id = l.id) x on true
     where ${column} = $1 order by x.last desc nulls last, l.created_at desc limit 1`,
    [value],
  );
  if (!lead) return undefined;
  return { workspaceId: lead.workspaceId, leadId: lead.id, enrollmentId: null, executionId: null, stepId: null, address: event.address };
}

/**
 * A reply names our message by its Message-ID header, which neither provider reports at send
 * time; both build it from the id they do report: SendGrid `<X-Message-Id@…sendgrid.net>`,
 * Postmark `<MessageID@mtasv.net>`. So the part before '@' is tried after the whole id.
 */
async function firstExecutionRepliedTo(db: Queryable, messageIds: string[]) {
  for (const id of messageIds) {
    const local = id.includes('@') ? id.slice(0, id.lastIndexOf('@')) : undefined;
    for (const candidate of local ? [id, local] : [id]) {
      const found = await findExecutionForEvent(db, { providerMessageId: candidate });
      if (found) return found;
    }
  }
  return undefined;
}

export async function ingestEvent(deps: IngestDeps, event: InboundEvent): Promise<IngestResult> {
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx): Promise<IngestResult> => {
    const found = await match(tx, event);
    if (!found) return { status: 'unmatched' };
    // Providers stamp events in whole seconds, so an open can look older than the send (and the
    // enrollment) it follows, and conditions would not see it. Nothing about a message happens
    // before we sent it.
    const early = found.sentAt !== undefined && event.occurredAt.getTime() < found.sentAt.getTime();
    const eventId = await insertEvent(tx, {
      workspaceId: found.workspaceId,
      leadId: found.leadId,
      enrollmentId: found.enrollmentId,
      executionId: found.executionId,
      stepId: found.stepId,
      type: event.type,
      channel: channelOf(event.type),
      provider: event.provider,
      providerEventId: event.providerEventId,
      occurredAt: early ? found.sentAt! : event.occurredAt,
      receivedAt: now,
      data: early ? { ...event.data, providerOccurredAt: event.occurredAt.toISOString() } : event.data,
    });
    if (!eventId) return { status: 'duplicate' };
    // Any provider event about a message proves it went out: a send a crash left `unknown` is
    // reconciled here (it was never resent, and now we know it arrived).
    if (found.executionId) await reconcileUnknown(tx, found.executionId, event.providerMessageId, now);
    if (found.address && (event.suppress || event.unsuppress)) {
      const suppression = { workspaceId: found.workspaceId, channel: found.address.channel, address: found.address.value };
      if (event.suppress) await addSuppression(tx, { ...suppression, reason: event.type, source: event.provider });
      else await removeSuppression(tx, suppression);
    }
    const exited = found.leadId ? await applyToLead(tx, found.leadId, event.type, now) : 0;
    return { status: 'recorded', eventId, leadId: found.leadId, exited };
  });
  if (result.status === 'recorded') deps.wake();
  return result;
}

/**
 * Exit rules fire for every live enrollment of the lead whose sequence lists the event (a reply
 * stops all of a lead's sequences, paused ones too); the others are woken to look again.
 */
async function applyToLead(tx: Queryable, leadId: string, type: EventType, now: Date): Promise<number> {
  const cols = ENROLLMENT_COLUMNS.split(',').map((c) => `e.${c.trim()}`).join(', ');
  const live = await tx.query<EnrollmentRecord & { definition: unknown }>(
    `select ${cols}, v.definition from enrollments e
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     where e.lead_id = $1 and e.status in ('active', 'paused', 'waiting') for update of e`,
    [leadId],
  );
  let exited = 0;
  for (const { definition: stored, ...enrollment } of live) {
    const definition = parseStoredDefinition(`${enrollment.sequenceId}:${enrollment.sequenceVersion}`, stored);
    if ((definition.exitOn as string[]).includes(type)) {
      const reason = exitReason(type);
      await tx.query(
        `update enrollments set status = 'exited', status_reason = $2, finished_at = $3, updated_at = $3,
           next_execution_at = null, waiting_for = null, wake_requested = false where id = $1`,
        [enrollment.id, reason, now],
      );
      await recordChange(tx, { enrollment, actor: 'system', action: 'exit', from: enrollment.status, to: 'exited', reason, at: now });
      exited++;
    } else if (enrollment.status !== 'paused') {
      await tx.query(
        `update enrollments set next_execution_at = case when lease_id is null then $2 else next_execution_at end,
           wake_requested = lease_id is not null where id = $1`,
        [enrollment.id, now],
      );
    }
  }
  return exited;
}
