/**
 * Workspace settings: the per-lead frequency cap overrides (migration 009), and the batched
 * count of a batch's leads' sends today that the executor checks them against.
 */
import type { Channel } from '../core/definition.ts';
import type { Queryable } from './db.ts';

export type CapOverrides = Partial<Record<Channel, number>>;

export async function getFrequencyCaps(db: Queryable, workspaceId: string): Promise<CapOverrides | undefined> {
  const [row] = await db.query<{ caps: CapOverrides | null }>('select frequency_caps as caps from workspaces where id = $1', [workspaceId]);
  return row ? (row.caps ?? {}) : undefined;
}

/**
 * Merges `changes` into the workspace's overrides: a number sets a channel, null returns it to
 * the default. Answers the overrides now, or undefined for an unknown workspace.
 */
export async function setFrequencyCaps(
  db: Queryable,
  workspaceId: string,
  changes: Partial<Record<Channel, number | null>>,
): Promise<CapOverrides | undefined> {
  const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => typeof v === 'number'));
  const cleared = Object.entries(changes).filter(([, v]) => v === null).map(([k]) => k);
  const [row] = await db.query<{ caps: CapOverrides | null }>(
    `update workspaces set frequency_caps = (coalesce(frequency_caps, '{}'::jsonb) - $3::text[]) || $2::jsonb
     where id = $1 returning frequency_caps as caps`,
    [workspaceId, JSON.stringify(set), cleared],
  );
  return row ? (row.caps ?? {}) : undefined;
}

/**
 * A workspace's share of each claim relative to the other workspaces with steps due
 * (migration 015; docs/ENGINE.md, "Fair claims across workspaces"). An operator's setting.
 * Answers the weight now, or undefined for an unknown workspace.
 */
export async function setClaimWeight(db: Queryable, workspaceId: string, weight: number): Promise<number | undefined> {
  const [row] = await db.query<{ weight: number }>('update workspaces set claim_weight = $2 where id = $1 returning claim_weight as weight', [
    workspaceId,
    weight,
  ]);
  return row?.weight;
}

export async function getClaimWeight(db: Queryable, workspaceId: string): Promise<number | undefined> {
  const [row] = await db.query<{ weight: number }>('select claim_weight as weight from workspaces where id = $1', [workspaceId]);
  return row?.weight;
}

export interface SendCountRequest {
  workspaceId: string;
  leadId: string;
  channel: Channel;
  dayStart: Date;
  dayEnd: Date;
}

/**
 * For each (lead, channel, day) asked: the sends recorded that day (an intent counts — it may
 * have gone out — as does an outcome left unknown; failures and skips do not), and the
 * workspace's overrides. One round trip for the batch, through the lead's executions index.
 */
export async function countSendsToday(
  db: Queryable,
  requests: SendCountRequest[],
): Promise<Array<{ leadId: string; channel: Channel; sent: number; caps: CapOverrides | null }>> {
  if (requests.length === 0) return [];
  return db.query(
    `select q.lead_id as "leadId", q.channel,
       (select count(*)::int from sequence_executions x
         where x.lead_id = q.lead_id and x.channel = q.channel and x.started_at >= q.day_start and x.started_at < q.day_end
           and x.status in ('succeeded', 'started', 'unknown')) as sent,
       (select w.frequency_caps from workspaces w where w.id = q.workspace_id) as caps
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[]) as q(workspace_id, lead_id, channel, day_start, day_end)`,
    [
      requests.map((r) => r.workspaceId),
      requests.map((r) => r.leadId),
      requests.map((r) => r.channel),
      requests.map((r) => r.dayStart.toISOString()),
      requests.map((r) => r.dayEnd.toISOString()),
    ],
  );
}

/** The reasons a send waited for tomorrow, on the lead's timeline (an audit row, status unchanged). */
export async function recordCapDeferrals(
  db: Queryable,
  rows: Array<{ workspaceId: string; enrollmentId: string; leadId: string; reason: string; at: Date }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, reason, at)
     select r.workspace_id, r.enrollment_id, r.lead_id, 'engine', 'defer', e.status, e.status, r.reason, r.at
     from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[]) as r(workspace_id, enrollment_id, lead_id, reason, at)
     join enrollments e on e.id = r.enrollment_id`,
    [
      rows.map((r) => r.workspaceId),
      rows.map((r) => r.enrollmentId),
      rows.map((r) => r.leadId),
      rows.map((r) => r.reason),
      rows.map((r) => r.at.toISOString()),
    ],
  );
}
