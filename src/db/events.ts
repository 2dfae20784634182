import type { EventType } from '../core/definition.ts';
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
}

/** Inserts an event unless one with the same provider event id exists; answers whether it was new. */
export async function insertEvent(tx: Queryable, event: NewEvent): Promise<string | undefined> {
  const [row] = await tx.query<{ id: string }>(
    `insert into events (workspace_id, lead_id, enrollment_id, execution_id, step_id, type, channel, provider,
       provider_event_id, occurred_at, received_at, data)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
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
    ],
  );
  return row?.id;
}

export async function addSuppression(
  tx: Queryable,
  s: { workspaceId: string; channel: 'email' | 'sms' | 'voice'; address: string; reason: string; source: string },
): Promise<void> {
  await tx.query(
    `insert into suppressions (workspace_id, channel, address, reason, source) values ($1, $2, $3, $4, $5)
     on conflict (workspace_id, channel, address) do nothing`,
    [s.workspaceId, s.channel, s.channel === 'email' ? s.address.toLowerCase() : s.address, s.reason, s.source],
  );
}

export async function removeSuppression(
  tx: Queryable,
  s: { workspaceId: string; channel: 'email' | 'sms' | 'voice'; address: string },
): Promise<void> {
  await tx.query('delete from suppressions where workspace_id = $1 and channel = $2 and address = $3', [
    s.workspaceId,
    s.channel,
    s.channel === 'email' ? s.address.toLowerCase() : s.address,
  ]);
}
