import type { Channel, Lead } from '../core/definition.ts';
import type { EnrollmentStatus } from '../core/enrollmentStatus.ts';
import type { Queryable } from './db.ts';
import { uuidv7 } from './ids.ts';

export interface EnrollmentRecord {
  id: string;
  workspaceId: string;
  sequenceId: string;
  sequenceVersion: number;
  leadId: string;
  status: EnrollmentStatus;
  statusReason: string | null;
  waitingFor: 'task' | 'branch' | null;
  /** When the current visit began to wait (set while `waiting`; the task inbox's order). */
  waitingSince: Date | null;
  currentStepId: string | null;
  stepSeq: number;
  stepEnteredAt: Date;
  attempts: number;
  /** Attempts in a row whose step threw (migration 007); at the cap the enrollment is `failed`. */
  consecutiveFailures: number;
  nextExecutionAt: Date | null;
  leaseId: string | null;
  wakeRequested: boolean;
  enrolledAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export const ENROLLMENT_COLUMNS = `id, workspace_id as "workspaceId", sequence_id as "sequenceId",
  sequence_version as "sequenceVersion", lead_id as "leadId", status, status_reason as "statusReason",
  waiting_for as "waitingFor", waiting_since as "waitingSince", current_step_id as "currentStepId", step_seq as "stepSeq",
  step_entered_at as "stepEnteredAt", attempts, consecutive_failures as "consecutiveFailures", next_execution_at as "nextExecutionAt", lease_id as "leaseId",
  wake_requested as "wakeRequested", enrolled_at as "enrolledAt", updated_at as "updatedAt", finished_at as "finishedAt"`;

export interface NewEnrollment {
  leadId: string;
  firstStepId: string;
  /** When the first step comes due (already moved into its window). */
  dueAt: Date;
}

/** A lead as enrolling checks it: its fields, and whether it opted out of a channel in use. */
export interface LeadToEnroll extends Lead {
  suppressed: boolean;
}

/**
 * The workspace's leads among `ids`, each with whether it is suppressed (opted out or bounced)
 * on one of `channels`. One statement for a whole batch, answered as one JSON value: parsing
 * one value costs far less than parsing thousands of rows. The leads are found by primary key
 * (the materialised CTE keeps the planner from scanning the workspace's leads instead, which
 * it picks on a store without statistics), and each suppression check is an index probe on
 * (workspace, channel, address) — for an email, its address and its whole domain ('@domain',
 * the suppression list's domain entries).
 */
export async function getLeadsToEnroll(
  db: Queryable,
  args: { workspaceId: string; ids: string[]; channels: Channel[] },
): Promise<LeadToEnroll[]> {
  if (args.ids.length === 0) return [];
  const [row] = await db.query<{ leads: LeadToEnroll[] }>(
    `with found as materialized (select * from leads where id = any($2::uuid[]))
     select coalesce(json_agg(json_build_object(
         'id', l.id, 'email', l.email, 'phone', l.phone, 'timezone', l.timezone, 'firstName', l.first_name,
         'lastName', l.last_name, 'company', l.company, 'title', l.title, 'customFields', l.custom_fields,
         'suppressed',
           exists (select 1 from suppressions s where s.workspace_id = l.workspace_id and 'email' = any($3::text[])
                     and s.channel = 'email' and s.address in (lower(l.email), '@' || split_part(lower(l.email), '@', 2)))
           or exists (select 1 from suppressions s where s.workspace_id = l.workspace_id
                     and s.channel = any(array_remove($3::text[], 'email')) and s.address = l.phone))), '[]') as leads
     from found l
     where l.workspace_id = $1`,
    [args.workspaceId, args.ids, args.channels],
  );
  return row?.leads ?? [];
}

/**
 * Inserts many enrollments in one statement, each with its `enroll` audit row. A lead already
 * live in the sequence is skipped by the partial unique index, not an error; the ids of the
 * enrolled leads come back.
 *
 * `referencesHeld`: the caller's transaction has read the sequence and every lead, and no other
 * session can change them before it commits (PGlite's single connection). The statement then
 * runs without the per-row foreign-key triggers (`session_replication_role`, for this statement
 * only): they would re-read the same sequence and leads once per row, about a quarter of the
 * insert's cost. Never on a shared server, where a concurrent delete could slip in between.
 *
 * Thousands of leads share a handful of (first step, due time) pairs (one per zone), so those
 * go once each and every lead names its pair by number: far cheaper to pass than a step and a
 * timestamp per lead. The answer is one JSON array of [lead id, enrollment id] pairs.
 */
export async function insertEnrollments(
  db: Queryable,
  args: {
    workspaceId: string;
    sequenceId: string;
    version: number;
    now: Date;
    actor: string;
    enrollments: NewEnrollment[];
    referencesHeld?: boolean;
  },
): Promise<Array<{ id: string; leadId: string }>> {
  if (args.enrollments.length === 0) return [];
  const pairs = new Map<string, number>();
  const steps: string[] = [];
  const dues: Date[] = [];
  const leadIds: string[] = [];
  const pairOf: number[] = [];
  for (const e of args.enrollments) {
    const key = `${e.dueAt.getTime()} ${e.firstStepId}`;
    let pair = pairs.get(key);
    if (pair === undefined) {
      pair = steps.push(e.firstStepId);
      dues.push(e.dueAt);
      pairs.set(key, pair);
    }
    leadIds.push(e.leadId);
    pairOf.push(pair);
  }
  // Ids made here, in the order given (monotonic UUIDv7, src/db/ids.ts), on every server: steps
  // due at the same instant are claimed by id, so an enroll call's leads go in the order it
  // named them (PostgreSQL before 18 would otherwise default to random v4 ids).
  const ids = leadIds.map(() => uuidv7());
  if (args.referencesHeld) await db.query('set local session_replication_role = replica');
  const [row] = await db.query<{ inserted: Array<[string, string]> }>(
    `with inserted as (
       insert into enrollments (id, workspace_id, sequence_id, sequence_version, lead_id, status, current_step_id,
                                step_seq, step_entered_at, next_execution_at, enrolled_at, updated_at)
       select u.id, $1, $2, $3, u.lead_id, 'active', ($7::text[])[u.pair], 1, $4, ($8::timestamptz[])[u.pair], $4, $4
       from unnest($10::uuid[], $5::uuid[], $6::int[]) as u(id, lead_id, pair)
       on conflict (sequence_id, lead_id) where status in ('active', 'paused', 'waiting') do nothing
       returning id, lead_id, workspace_id),
     audit as (
       insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, at)
       select workspace_id, id, lead_id, $9, 'enroll', null, 'active', $4 from inserted)
     select coalesce(json_agg(json_build_array(lead_id, id)), '[]') as inserted from inserted`,
    [args.workspaceId, args.sequenceId, args.version, args.now, leadIds, pairOf, steps, dues, args.actor, ids],
  );
  if (args.referencesHeld) await db.query('set local session_replication_role = origin');
  return (row?.inserted ?? []).map(([leadId, id]) => ({ id, leadId }));
}

export interface Claim {
  enrollmentId: string;
  leaseId: string;
  dueAt: Date;
  /**
   * When the lease runs out: every adapter call of the claim must be over before it (the
   * executor's send deadline ends safely before this), since after it another worker may take
   * the enrollment over.
   */
  leaseUntil: Date;
}

/**
 * Claims up to `limit` due enrollments. The lease is the due time itself: a claimed row's
 * `next_execution_at` moves to `leaseUntil`, so it leaves the due set, and if its worker dies
 * it comes due again when the lease runs out. SKIP LOCKED lets several dispatchers share.
 */
export async function claimDue(
  db: Queryable,
  args: { now: Date; limit: number; leaseUntil: Date; leaseId: string },
): Promise<Claim[]> {
  const rows = await db.query<Omit<Claim, 'leaseUntil'>>(
    `select enrollment_id as "enrollmentId", lease_id as "leaseId", due_at as "dueAt"
     from engine_claim_due($1, $2, $3, $4)`,
    [args.now, args.limit, args.leaseUntil, args.leaseId],
  );
  // Oldest due first (a stable sort: ties keep the order they were claimed in): a batch's sends
  // meet their limits (a mailbox's day, a rate) in the order they came due, so sends deferred to
  // a new day go before ones that came due after them.
  return rows.map((r) => ({ ...r, leaseUntil: args.leaseUntil })).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/**
 * The earliest due time among live enrollments: how long the dispatcher may sleep. The due index
 * is per workspace (migration 015), so this is one probe of it per workspace.
 */
export async function earliestDue(db: Queryable): Promise<Date | null> {
  const [row] = await db.query<{ at: Date | null }>(
    `select min(d.at) as at from workspaces w
     cross join lateral (
       select e.next_execution_at as at from enrollments e
       where e.workspace_id = w.id and e.status in ('active', 'waiting') and e.next_execution_at is not null
       order by e.next_execution_at limit 1) d`,
  );
  return row?.at ?? null;
}

export async function countDue(db: Queryable, now: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select coalesce(sum(d.n), 0)::int as n from workspaces w
     cross join lateral (
       select count(*) as n from enrollments e
       where e.workspace_id = w.id and e.status in ('active', 'waiting') and e.next_execution_at is not null
         and e.next_execution_at <= $1) d`,
    [now],
  );
  return row?.n ?? 0;
}

export async function getEnrollment(db: Queryable, id: string, workspaceId?: string): Promise<EnrollmentRecord | undefined> {
  const [row] = await db.query<EnrollmentRecord>(
    `select ${ENROLLMENT_COLUMNS} from enrollments where id = $1 and ($2::uuid is null or workspace_id = $2)`,
    [id, workspaceId ?? null],
  );
  return row;
}

/** Locks the row for the rest of the transaction: controls and the executor serialise on it. */
export async function lockEnrollment(tx: Queryable, id: string): Promise<EnrollmentRecord | undefined> {
  const [row] = await tx.query<EnrollmentRecord>(`select ${ENROLLMENT_COLUMNS} from enrollments where id = $1 for update`, [id]);
  return row;
}

/** A step attempt that threw, as `engine_record_failures` takes it (src/db/functions/engine_record_failures.sql). */
export interface StepFailure {
  enrollmentId: string;
  leaseId: string;
  now: Date;
  /** The sentence kept as the status reason and on the audit row when the cap is reached. */
  reason: string;
  /** When to try again while under the cap. */
  retryAt: Date;
  /** Consecutive failures at which the enrollment becomes `failed`. */
  cap: number;
  /** What the adapter answered before the failure, if it was called: recorded all the same. */
  execution?:
    | { kind: 'complete'; id: string; status: string; providerMessageId?: string; errorCode?: string; errorMessage?: string; metadata?: Record<string, unknown> }
    | { kind: 'unknown'; id: string };
}

/**
 * Records failed attempts, a batch in one statement, each fenced by its lease: the count goes
 * up, and the enrollment comes back at `retryAt` or, at the cap, is `failed` with an audit row.
 * Answers each enrollment's status and count.
 */
export async function recordStepFailures(
  db: Queryable,
  failures: StepFailure[],
): Promise<Map<string, { status: EnrollmentStatus; failures: number }>> {
  if (failures.length === 0) return new Map();
  const input = failures.map((f) => {
    const x = f.execution;
    return {
      enrollment_id: f.enrollmentId,
      lease_id: f.leaseId,
      now: f.now.toISOString(),
      reason: f.reason,
      retry_at: f.retryAt.toISOString(),
      cap: f.cap,
      exec_kind: x?.kind ?? null,
      exec_id: x?.id ?? null,
      ...(x?.kind === 'complete'
        ? {
            exec_status: x.status,
            provider_message_id: x.providerMessageId ?? null,
            error_code: x.errorCode ?? null,
            error_message: x.errorMessage ?? null,
            exec_metadata: x.metadata ?? {},
          }
        : {}),
    };
  });
  const rows = await db.query<{ enrollmentId: string; status: EnrollmentStatus; failures: number }>(
    'select enrollment_id as "enrollmentId", status, failures from engine_record_failures($1::jsonb)',
    [JSON.stringify(input)],
  );
  return new Map(rows.map((r) => [r.enrollmentId, { status: r.status, failures: r.failures }]));
}

/** A step that ended normally: the enrollment's run of failures is over. */
export async function resetFailures(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('update enrollments set consecutive_failures = 0 where id = any($1::uuid[]) and consecutive_failures > 0', [ids]);
}
