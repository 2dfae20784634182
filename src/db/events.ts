import type { EventType } from '../core/events.ts';
import type { Queryable } from './db.ts';

export interface NewEvent {
  workspaceId: string;
  leadId: string | null;
  enrollmentId: string | null;
  executionId: string | null;
  stepId: string | null;
  type: EventType;
  channel: string | null;
  provider: string;
  /** Null for operator events; otherwise the dedupe key (unique). */
  providerEventId: string | null;
  occurredAt: Date;
  receivedAt: Date;
  data: Record<string, unknown>;
  /** Replies: the class the rules (or the AI) gave (src/core/sentiment.ts). */
  replyClass?: { class: string; source: 'rules' | 'ai' };
}

/** Inserts an event unless one with the same provider event id exists; answers whether it was new. */
export async function insertEvent(tx: Queryable, event: NewEvent): Promise<string | undefined> {
  const [row] = await tx.query<{ id: string }>(
    `insert into events (workspace_id, lead_id, enrollment_id, execution_id, step_id, type, channel, provider,
       provider_event_id, occurred_at, received_at, data, reply_class, reply_class_source, reply_class_machine)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13)
     on conflict (provider_event_id) do nothing returning id`,
    [
      event.workspaceId,
      event.leadId,
      event.enrollmentId,
      event.executionId,
      event.stepId,
      event.type,
      event.channel,
      event.provider,
      event.providerEventId,
      event.occurredAt,
      event.receivedAt,
      JSON.stringify(event.data),
      event.replyClass?.class ?? null,
      event.replyClass?.source ?? null,
    ],
  );
  return row?.id;
}

/**
 * An operator's correction of a reply's class: the machine's class stays in
 * `reply_class_machine`, so stats can count corrections. Answers the event, or undefined when the
 * workspace has no such reply.
 */
export async function correctReplyClass(
  db: Queryable,
  args: { workspaceId: string; eventId: string; replyClass: string; actor: string; now: Date },
): Promise<{ id: string; replyClass: string; machineClass: string | null; leadId: string | null; receivedAt: Date } | undefined> {
  const [row] = await db.query<{ id: string; replyClass: string; machineClass: string | null; leadId: string | null; receivedAt: Date }>(
    `update events set reply_class = $3, reply_class_source = 'operator', reply_class_corrected_by = $4, reply_class_corrected_at = $5
     where id = $2 and workspace_id = $1 and type in ('email.replied', 'sms.replied')
     returning id, reply_class as "replyClass", reply_class_machine as "machineClass", lead_id as "leadId", received_at as "receivedAt"`,
    [args.workspaceId, args.eventId, args.replyClass, args.actor, args.now],
  );
  return row;
}

type SuppressionChannel = 'email' | 'sms' | 'voice';

/**
 * A suppressed address as stored and matched: an email lower-cased by the database's `lower()`
 * (the one owner of the rule: every match — engine_run_contexts, getLeadsToEnroll,
 * lead_status_from_history, leadsHoldingAddress — compares with `lower(email)`; JavaScript's
 * toLowerCase differs from it on a dotted capital I or a final sigma), a phone as given.
 * `$1` is the channel, `$2` the address. A whole email domain (the suppression list,
 * src/db/suppressions.ts) is the address `@domain`, normalised by the same rule.
 */
export const normalisedAddress = (channel: string, address: string) => `case when ${channel} = 'email' then lower(${address}) else ${address} end`;
const NORMALISED = normalisedAddress('$1', '$2');

/**
 * Suppresses an address in one workspace (our own unsubscribe page: the workspace whose message
 * carried the link), or, with `workspaceId: 'account'`, in every workspace that sends through
 * the provider account the opt-out came from. Today one account serves the whole process, so
 * that is every workspace; a workspace created later inherits it (migration 008's trigger).
 */
export async function addSuppression(
  tx: Queryable,
  s: { workspaceId: string | 'account'; channel: SuppressionChannel; address: string; reason: string; source: string; sender?: string | null },
): Promise<void> {
  const params = [s.channel, s.address, s.reason, s.source, s.sender ?? null];
  if (s.workspaceId === 'account') {
    await tx.query(
      `insert into suppressions (workspace_id, channel, address, reason, source, sender)
       select w.id, $1, ${NORMALISED}, $3, $4, $5 from workspaces w
       on conflict (workspace_id, channel, address) do nothing`,
      params,
    );
    return;
  }
  await tx.query(
    `insert into suppressions (workspace_id, channel, address, reason, source, sender) values ($6, $1, ${NORMALISED}, $3, $4, $5)
     on conflict (workspace_id, channel, address) do nothing`,
    [...params, s.workspaceId],
  );
}

/**
 * Lifts a suppression in one workspace, or (`'account'`) wherever the provider account's opt-out
 * put it. A suppression a person added (`added_by`, the suppression list) stays: a START or a
 * resubscribe does not overrule a person's decision; only a person deletes it.
 */
export async function removeSuppression(
  tx: Queryable,
  s: { workspaceId: string | 'account'; channel: SuppressionChannel; address: string },
): Promise<void> {
  if (s.workspaceId === 'account') {
    await tx.query(`delete from suppressions where channel = $1 and address = ${NORMALISED} and source <> 'touchpoint' and added_by is null`, [
      s.channel,
      s.address,
    ]);
    return;
  }
  await tx.query(`delete from suppressions where channel = $1 and address = ${NORMALISED} and workspace_id = $3 and added_by is null`, [
    s.channel,
    s.address,
    s.workspaceId,
  ]);
}
