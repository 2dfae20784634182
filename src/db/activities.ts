import type { Queryable } from './db.ts';

export const ACTIVITY_KINDS = ['note', 'call', 'email', 'sms', 'meeting', 'task'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export interface ActivityRecord {
  id: string;
  leadId: string;
  kind: ActivityKind;
  channel: string | null;
  outcome: string | null;
  body: string | null;
  actor: string;
  occurredAt: Date;
  createdAt: Date;
}

export async function insertActivity(
  db: Queryable,
  a: { workspaceId: string; leadId: string; kind: ActivityKind; channel: string | null; outcome: string | null; body: string | null; actor: string; occurredAt: Date },
): Promise<ActivityRecord> {
  const [row] = await db.query<ActivityRecord>(
    `insert into activities (workspace_id, lead_id, kind, channel, outcome, body, actor, occurred_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     returning id, lead_id as "leadId", kind, channel, outcome, body, actor, occurred_at as "occurredAt", created_at as "createdAt"`,
    [a.workspaceId, a.leadId, a.kind, a.channel, a.outcome, a.body, a.actor, a.occurredAt],
  );
  return row!;
}
