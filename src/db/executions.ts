import type { Queryable } from './db.ts';
import { isUuid } from './ids.ts';

export type ExecutionStatus = 'started' | 'succeeded' | 'failed' | 'skipped' | 'unknown' | 'retry_scheduled';

export interface ExecutionRecord {
  id: string;
  workspaceId: string;
  enrollmentId: string;
  leadId: string;
  sequenceId: string;
  stepId: string;
  stepType: string;
  channel: string | null;
  visit: number;
  idempotencyKey: string;
  status: ExecutionStatus;
  attempts: number;
  adapter: string | null;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  rendered: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  /** The A/B variant the step sent (docs/SEQUENCES.md, "A/B variants"); null without variants. */
  variant?: string | null;
  startedAt: Date;
  completedAt: Date | null;
}

export const EXECUTION_COLUMNS = `id, workspace_id as "workspaceId", enrollment_id as "enrollmentId", lead_id as "leadId",
  sequence_id as "sequenceId", step_id as "stepId", step_type as "stepType", channel, visit,
  idempotency_key as "idempotencyKey", status, attempts, adapter, provider_message_id as "providerMessageId",
  error_code as "errorCode", error_message as "errorMessage", rendered, metadata, variant,
  started_at as "startedAt", completed_at as "completedAt"`;

/**
 * The idempotency key of a visit, `enrollment:step:visit`: what adapters hand to providers and
 * ledgers are asked by. The database functions that write execution rows spell the same format
 * in SQL; test/integration/formats.test.ts proves they agree.
 */
export function idempotencyKeyOf(enrollmentId: string, stepId: string, visit: number): string {
  return `${enrollmentId}:${stepId}:${visit}`;
}

export interface ExecutionIdentity {
  workspaceId: string;
  enrollmentId: string;
  leadId: string;
  sequenceId: string;
  stepId: string;
  stepType: string;
  channel: string | null;
  visit: number;
}

/** The first nine parameters of every execution insert: who, which step, which visit, its key. */
function identityParams(identity: ExecutionIdentity): unknown[] {
  return [
    identity.workspaceId,
    identity.enrollmentId,
    identity.leadId,
    identity.sequenceId,
    identity.stepId,
    identity.stepType,
    identity.channel,
    identity.visit,
    idempotencyKeyOf(identity.enrollmentId, identity.stepId, identity.visit),
  ];
}

export interface IntentRequest {
  identity: ExecutionIdentity;
  /** The lease the executor holds: the intent is written only while the enrollment is still under it. */
  leaseId: string;
  adapter: string;
  /**
   * The address the message goes to (the lead's email, or phone, as the context read it): the
   * intent is written only while it is not suppressed on the step's channel.
   */
  recipient: string | null;
  rendered: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The A/B variant assigned; a retry keeps the one its first attempt stored. */
  variant?: string;
  now: Date;
}

/**
 * Writes the intents to send of a batch in one transaction (`src/db/functions/
 * engine_write_intents.sql`): each enrollment locked and re-checked — still live, still under the lease — then a new
 * `started` row, or a scheduled retry turned back into `started`. An enrollment missing from
 * the answer must not be sent to: a pause, a cancel, a take-over or a suppression of its
 * recipient came first, or this visit already ran.
 */
export async function writeIntents(
  db: Queryable,
  requests: IntentRequest[],
): Promise<Map<string, { id: string; attempts: number }>> {
  if (requests.length === 0) return new Map();
  const rows = await db.query<{ enrollmentId: string; id: string; attempts: number }>(
    'select enrollment_id as "enrollmentId", id, attempts from engine_write_intents($1::jsonb)',
    [
      JSON.stringify(
        requests.map(({ identity, ...r }) => ({
          enrollment_id: identity.enrollmentId,
          lease_id: r.leaseId,
          workspace_id: identity.workspaceId,
          lead_id: identity.leadId,
          sequence_id: identity.sequenceId,
          step_id: identity.stepId,
          step_type: identity.stepType,
          channel: identity.channel,
          visit: identity.visit,
          adapter: r.adapter,
          recipient: r.recipient,
          rendered: r.rendered,
          metadata: r.metadata ?? {},
          now: r.now.toISOString(),
          variant: r.variant ?? null,
        })),
      ),
    ],
  );
  return new Map(rows.map((r) => [r.enrollmentId, { id: r.id, attempts: r.attempts }]));
}

/** Records a step that ran without an adapter call (wait, branch, task, end, skip). */
export async function recordFinishedExecution(
  tx: Queryable,
  identity: ExecutionIdentity,
  args: {
    status: 'succeeded' | 'skipped' | 'failed';
    now: Date;
    metadata?: Record<string, unknown>;
    rendered?: Record<string, unknown> | null;
    errorCode?: string;
    errorMessage?: string;
    adapter?: string | null;
  },
): Promise<void> {
  await tx.query(
    `insert into sequence_executions (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel,
       visit, idempotency_key, status, attempts, adapter, rendered, metadata, error_code, error_message, started_at, completed_at, owner_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $14, $15, $16, $16,
       -- The lead's owner at this moment (docs/ANALYTICS.md, "Owner: who gets the credit").
       (select l.owner_id from leads l where l.id = $3::uuid))
     on conflict (enrollment_id, step_id, visit) do nothing`,
    [
      ...identityParams(identity),
      args.status,
      args.adapter ?? null,
      args.rendered ? JSON.stringify(args.rendered) : null,
      JSON.stringify(args.metadata ?? {}),
      args.errorCode ?? null,
      args.errorMessage ?? null,
      args.now,
    ],
  );
}

/**
 * Records what the adapter answered. A send that came back after its execution was already
 * declared `unknown` (the lease ran out mid-call) is reconciled: we now know it went out.
 */
export async function completeExecution(
  tx: Queryable,
  id: string,
  args: {
    status: 'succeeded' | 'failed' | 'retry_scheduled';
    now: Date;
    providerMessageId?: string;
    errorCode?: string;
    errorMessage?: string;
    metadata?: Record<string, unknown>;
    /** The attempt this answers: a row since tried again is left alone (a stalled worker's late word). */
    attempt?: number;
  },
): Promise<void> {
  await tx.query('select engine_complete_execution($1, $2, $3, $4, $5, $6, $7, $8)', [
    id,
    args.status,
    args.providerMessageId ?? null,
    args.errorCode ?? null,
    args.errorMessage ?? null,
    JSON.stringify(args.metadata ?? {}),
    args.now,
    args.attempt ?? null,
  ]);
}

export async function listExecutions(db: Queryable, enrollmentId: string): Promise<ExecutionRecord[]> {
  return db.query<ExecutionRecord>(
    `select ${EXECUTION_COLUMNS} from sequence_executions where enrollment_id = $1 order by started_at, visit`,
    [enrollmentId],
  );
}

export async function findExecutionForEvent(
  db: Queryable,
  ref: { executionId?: string; providerMessageId?: string },
): Promise<ExecutionRecord | undefined> {
  if (isUuid(ref.executionId)) {
    const [row] = await db.query<ExecutionRecord>(`select ${EXECUTION_COLUMNS} from sequence_executions where id = $1`, [
      ref.executionId,
    ]);
    if (row) return row;
  }
  if (ref.providerMessageId) {
    const [row] = await db.query<ExecutionRecord>(
      `select ${EXECUTION_COLUMNS} from sequence_executions where provider_message_id = $1 limit 1`,
      [ref.providerMessageId],
    );
    return row;
  }
  return undefined;
}

export interface RecentExecution extends ExecutionRecord {
  leadName: string | null;
  leadEmail: string | null;
  sequenceName: string;
}

/** The newest executions of a workspace in the given statuses: the monitoring page's failures. */
export async function listRecentExecutions(
  db: Queryable,
  args: { workspaceId: string; statuses: ExecutionStatus[]; limit: number },
): Promise<RecentExecution[]> {
  const columns = EXECUTION_COLUMNS.split(',').map((c) => `x.${c.trim()}`).join(', ');
  return db.query<RecentExecution>(
    `select ${columns}, nullif(trim(concat_ws(' ', l.first_name, l.last_name)), '') as "leadName", l.email as "leadEmail",
       s.name as "sequenceName"
     from sequence_executions x
     join leads l on l.id = x.lead_id
     join sequences s on s.id = x.sequence_id
     where x.workspace_id = $1 and x.status = any($2::text[])
     order by x.started_at desc, x.id desc limit $3`,
    [args.workspaceId, args.statuses, args.limit],
  );
}

/** A provider event named this execution: if a crash had left it `unknown`, it did go out. */
export async function reconcileUnknown(tx: Queryable, id: string, providerMessageId: string | undefined, now: Date): Promise<void> {
  await tx.query(
    `update sequence_executions set status = 'succeeded', provider_message_id = coalesce(provider_message_id, $2),
       metadata = metadata || jsonb_build_object('reconciledAt', $3::timestamptz, 'reconciledFrom', 'unknown')
     where id = $1 and status = 'unknown'`,
    [id, providerMessageId ?? null, now],
  );
}

/** How many executions of these enrollments are between intent and outcome (a control waits for none). */
/** The status of one visit's execution (key: enrollment, step, visit), or undefined when it has none. */
export async function executionStatusOfVisit(db: Queryable, enrollmentId: string, stepId: string, visit: number): Promise<ExecutionStatus | undefined> {
  const [row] = await db.query<{ status: ExecutionStatus }>(
    `select status from sequence_executions where enrollment_id = $1 and step_id = $2 and visit = $3`,
    [enrollmentId, stepId, visit],
  );
  return row?.status;
}

export async function countSendsInFlightOf(db: Queryable, enrollmentId: string | readonly string[]): Promise<number> {
  const ids = typeof enrollmentId === 'string' ? [enrollmentId] : enrollmentId;
  if (ids.length === 0) return 0;
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from sequence_executions where enrollment_id = any($1::uuid[]) and status = 'started'`,
    [ids],
  );
  return row?.n ?? 0;
}

/** Where an event about a message lands: a workspace's lead, and the enrollment and step when known. */
export interface EventTarget {
  workspaceId: string;
  leadId: string | null;
  enrollmentId: string | null;
  executionId: string | null;
  stepId: string | null;
}

/**
 * The live (active, paused or waiting) enrollments of these leads, oldest first, each with its
 * last delivered execution on `channel` (none: null): where a reply that names no thread goes.
 */
export async function liveEnrollmentsWithLastSend(db: Queryable, leadIds: readonly string[], channel: string): Promise<EventTarget[]> {
  return db.query<EventTarget>(
    `select e.workspace_id as "workspaceId", e.lead_id as "leadId", e.id as "enrollmentId", x.id as "executionId", x.step_id as "stepId"
     from enrollments e
     left join lateral (
       select x.id, x.step_id from sequence_executions x
       where x.enrollment_id = e.id and x.channel = $2 and x.status = 'succeeded'
       order by x.started_at desc, x.id desc limit 1) x on true
     where e.lead_id = any($1::uuid[]) and e.status in ('active', 'paused', 'waiting')
     order by e.enrolled_at, e.id`,
    [leadIds, channel],
  );
}

/** The last message delivered to any of these leads (on `channel` when given). */
export async function lastSendTo(db: Queryable, leadIds: readonly string[], channel: string | null): Promise<EventTarget | undefined> {
  const [row] = await db.query<EventTarget>(
    `select x.workspace_id as "workspaceId", x.lead_id as "leadId", x.enrollment_id as "enrollmentId", x.id as "executionId",
       x.step_id as "stepId"
     from sequence_executions x
     where x.lead_id = any($1::uuid[]) and x.status = 'succeeded' and ($2::text is null or x.channel = $2)
     order by x.started_at desc, x.id desc limit 1`,
    [leadIds, channel],
  );
  return row;
}
