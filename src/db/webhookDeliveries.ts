/**
 * Outbound webhook deliveries: the outbox the triggers fill (webhook_enqueue.sql) and the
 * delivery log the API shows. Deliverers claim due rows under a lease (`FOR UPDATE SKIP
 * LOCKED`, the claim pushing `next_attempt_at` forward by the lease), so a deliverer that dies
 * mid-post leaves its rows due again once the lease runs out; each outcome is fenced by the
 * lease it was claimed with.
 */
import type { Queryable } from './db.ts';
import type { LeadSummary } from './enrollmentLists.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  workspaceId: string;
  leadId: string | null;
  messageId: string;
  eventType: string;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastResponse: string | null;
  lastError: string | null;
  lastLatencyMs: number | null;
  deliveredAt: Date | null;
  replayOf: string | null;
  createdAt: Date;
}

/** A claimed delivery with what the deliverer needs to post it. */
export interface ClaimedDelivery extends WebhookDelivery {
  leaseId: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
}

const COLUMNS = `d.id, d.endpoint_id as "endpointId", d.workspace_id as "workspaceId", d.lead_id as "leadId",
  d.message_id as "messageId", d.event_type as "eventType", d.payload, d.status, d.attempts,
  d.next_attempt_at as "nextAttemptAt", d.last_attempt_at as "lastAttemptAt", d.last_status_code as "lastStatusCode",
  d.last_response as "lastResponse", d.last_error as "lastError", d.last_latency_ms as "lastLatencyMs",
  d.delivered_at as "deliveredAt", d.replay_of as "replayOf", d.created_at as "createdAt"`;

/**
 * Claims up to `limit` due deliveries of enabled endpoints. A delivery waits while an earlier
 * one of the same lead to the same endpoint is pending (being posted or waiting for a retry):
 * a lead's events reach each endpoint in the order they were written.
 */
export function claimDueDeliveries(
  db: Queryable,
  args: { now: Date; leaseId: string; leaseUntil: Date; limit: number },
): Promise<ClaimedDelivery[]> {
  return db.query<ClaimedDelivery>(
    `with due as (
       select d.id from webhook_deliveries d
       join webhook_endpoints e on e.id = d.endpoint_id and e.enabled
       where d.status = 'pending' and d.next_attempt_at <= $1
         and not exists (select 1 from webhook_deliveries p
                         where p.endpoint_id = d.endpoint_id and p.lead_id = d.lead_id and p.status = 'pending' and p.seq < d.seq)
       order by d.next_attempt_at, d.seq
       limit $4
       for update of d skip locked
     )
     update webhook_deliveries d set next_attempt_at = $3, lease_id = $2, attempts = d.attempts + 1, last_attempt_at = $1
     from due, webhook_endpoints e
     where d.id = due.id and e.id = d.endpoint_id
     returning ${COLUMNS}, d.lease_id as "leaseId", e.url, e.secret, e.previous_secret as "previousSecret",
       e.previous_secret_expires_at as "previousSecretExpiresAt", e.failing_since as "failingSince"`,
    [args.now, args.leaseId, args.leaseUntil, args.limit],
  );
}

/**
 * What the `task.created` deliveries among `ids` are rendered with (src/outbound/taskPayloads.ts):
 * the sequence version the payload names and the lead as it stands, shaped as the task inbox
 * reads them (src/db/enrollmentLists.ts). Either is null when it is gone.
 */
export interface TaskRenderContext {
  id: string;
  definition: unknown;
  lead: LeadSummary | null;
  /** Who the task is for (task_assignee), as the payload names them. */
  assignee: { id: string; name: string | null; email: string } | null;
}

export function taskRenderContexts(db: Queryable, ids: readonly string[]): Promise<TaskRenderContext[]> {
  return db.query(
    `select d.id, v.definition,
       case when l.id is null then null else json_build_object('id', l.id, 'email', l.email, 'phone', l.phone,
         'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company, 'title', l.title,
         'timezone', l.timezone, 'customFields', l.custom_fields) end as lead,
       (select json_build_object('id', u.id, 'name', u.name, 'email', u.email)
          from memberships m join users u on u.id = m.user_id
          where m.workspace_id = d.workspace_id
            and m.user_id = task_assignee(d.workspace_id, v.definition, d.payload #>> '{data,stepId}', l.owner_id)) as assignee
     from webhook_deliveries d
     left join sequence_versions v on v.sequence_id = (d.payload #>> '{data,sequenceId}')::uuid
       and v.version = (d.payload #>> '{data,sequenceVersion}')::int
     left join leads l on l.id = d.lead_id
     where d.id = any($1::uuid[])`,
    [ids],
  );
}

/** Writes payloads the deliverer completed (a task's rendered title), fenced by its lease. */
export async function storeCompletedPayloads(db: Queryable, leaseId: string, rows: ReadonlyArray<{ id: string; payload: Record<string, unknown> }>): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `update webhook_deliveries d set payload = x.payload
     from jsonb_to_recordset($2::jsonb) as x(id uuid, payload jsonb)
     where d.id = x.id and d.lease_id = $1`,
    [leaseId, JSON.stringify(rows)],
  );
}

/** When the next pending delivery of an enabled endpoint comes due (null: none waits). */
export async function nextDeliveryDue(db: Queryable): Promise<Date | null> {
  const [row] = await db.query<{ at: Date | null }>(
    `select min(d.next_attempt_at) as at from webhook_deliveries d
     join webhook_endpoints e on e.id = d.endpoint_id and e.enabled
     where d.status = 'pending'`,
  );
  return row?.at ?? null;
}

/**
 * The outbox's backlog for the metrics: pending deliveries by whether their endpoint is enabled
 * (a disabled endpoint's wait until it is turned back on), and when the oldest pending delivery
 * of an enabled endpoint was queued. Read through the pending-only index.
 */
export async function outboxBacklog(db: Queryable): Promise<{ pendingEnabled: number; pendingDisabled: number; oldestPendingAt: Date | null }> {
  const [row] = await db.query<{ pendingEnabled: number; pendingDisabled: number; oldestPendingAt: Date | null }>(
    `select count(*) filter (where e.enabled)::int as "pendingEnabled", count(*) filter (where not e.enabled)::int as "pendingDisabled",
       min(d.created_at) filter (where e.enabled) as "oldestPendingAt"
     from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
     where d.status = 'pending'`,
  );
  return row ?? { pendingEnabled: 0, pendingDisabled: 0, oldestPendingAt: null };
}

/** One attempt's outcome, fenced by its lease: `pending` with `nextAttemptAt` is a retry. */
export async function recordAttempt(
  db: Queryable,
  args: {
    id: string;
    leaseId: string;
    status: DeliveryStatus;
    nextAttemptAt: Date | null;
    statusCode: number | null;
    response: string | null;
    error: string | null;
    latencyMs: number;
    now: Date;
  },
): Promise<boolean> {
  const rows = await db.query(
    `update webhook_deliveries set status = $3, next_attempt_at = $4, lease_id = null, last_status_code = $5,
       last_response = $6, last_error = $7, last_latency_ms = $8,
       delivered_at = case when $3 = 'delivered' then $9::timestamptz else delivered_at end
     where id = $1 and lease_id = $2 returning id`,
    [args.id, args.leaseId, args.status, args.nextAttemptAt, args.statusCode, args.response, args.error, args.latencyMs, args.now],
  );
  return rows.length > 0;
}

/** Gives back leases this process holds (a shutdown): the rows come due at `now`. */
export async function releaseDeliveryLeases(db: Queryable, leaseIds: readonly string[], now: Date): Promise<number> {
  if (leaseIds.length === 0) return 0;
  const rows = await db.query(
    `update webhook_deliveries set lease_id = null, next_attempt_at = $2, attempts = greatest(attempts - 1, 0)
     where lease_id = any($1::uuid[]) and status = 'pending' returning id`,
    [leaseIds, now],
  );
  return rows.length;
}

/** An endpoint's delivery log, newest first, keyset-paged. */
export function listDeliveries(
  db: Queryable,
  args: { workspaceId: string; endpointId: string; status?: DeliveryStatus; after?: { at: Date; id: string }; limit: number },
): Promise<WebhookDelivery[]> {
  return db.query<WebhookDelivery>(
    `select ${COLUMNS} from webhook_deliveries d
     where d.workspace_id = $1 and d.endpoint_id = $2 and ($3::text is null or d.status = $3)
       and ($4::timestamptz is null or (d.created_at, d.id) < ($4, $5::uuid))
     order by d.created_at desc, d.id desc limit $6`,
    [args.workspaceId, args.endpointId, args.status ?? null, args.after?.at ?? null, args.after?.id ?? null, args.limit],
  );
}

export async function getDelivery(db: Queryable, workspaceId: string, endpointId: string, id: string): Promise<WebhookDelivery | undefined> {
  const [row] = await db.query<WebhookDelivery>(
    `select ${COLUMNS} from webhook_deliveries d where d.workspace_id = $1 and d.endpoint_id = $2 and d.id = $3`,
    [workspaceId, endpointId, id],
  );
  return row;
}

/**
 * Replay: a new delivery of the same event (same `webhook-id` and payload) to the same
 * endpoint, due at once, behind any of the lead's deliveries still pending there.
 */
export async function replayDelivery(db: Queryable, workspaceId: string, endpointId: string, id: string, now: Date): Promise<WebhookDelivery | undefined> {
  const [row] = await db.query<WebhookDelivery>(
    `insert into webhook_deliveries as d (workspace_id, endpoint_id, lead_id, message_id, event_type, payload, next_attempt_at, created_at, replay_of)
     select o.workspace_id, o.endpoint_id, o.lead_id, o.message_id, o.event_type, o.payload, $4, $4, o.id
     from webhook_deliveries o where o.workspace_id = $1 and o.endpoint_id = $2 and o.id = $3
     returning ${COLUMNS}`,
    [workspaceId, endpointId, id, now],
  );
  return row;
}

/** The test event of "send test event": to this endpoint alone, about no lead. */
export async function insertTestDelivery(
  db: Queryable,
  args: { workspaceId: string; endpointId: string; messageId: string; payload: Record<string, unknown>; now: Date },
): Promise<WebhookDelivery> {
  const [row] = await db.query<WebhookDelivery>(
    `insert into webhook_deliveries as d (workspace_id, endpoint_id, lead_id, message_id, event_type, payload, next_attempt_at, created_at)
     values ($1, $2, null, $3, 'webhook.test', $4, $5, $5)
     returning ${COLUMNS}`,
    [args.workspaceId, args.endpointId, args.messageId, JSON.stringify(args.payload), args.now],
  );
  return row!;
}

/** Counts per status of one endpoint (the dashboard's summary). */
export async function deliveryCounts(db: Queryable, endpointIds: readonly string[]): Promise<Map<string, Record<DeliveryStatus, number>>> {
  const rows = await db.query<{ endpointId: string; status: DeliveryStatus; n: number }>(
    `select endpoint_id as "endpointId", status, count(*)::int as n from webhook_deliveries
     where endpoint_id = any($1::uuid[]) group by endpoint_id, status`,
    [endpointIds],
  );
  const counts = new Map<string, Record<DeliveryStatus, number>>();
  for (const id of endpointIds) counts.set(id, { pending: 0, delivered: 0, failed: 0 });
  for (const row of rows) counts.get(row.endpointId)![row.status] = row.n;
  return counts;
}
