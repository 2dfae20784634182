/**
 * A/B variants' figures and the automatic winner's decisions (docs/ANALYTICS.md, "A/B
 * variants"). The figures are those of src/db/stats.ts, grouped by the variant stored on the
 * execution: an enrollment counts under the variant it was sent at that step.
 */
import type { Queryable } from './db.ts';
import { CREDITED_MESSAGE, EVENT_MEASURES, MESSAGE_STEP_TYPES, OUTCOMES_OF_SEQUENCE, type EventMeasure } from './stats.ts';

export interface VariantFigureRow {
  stepId: string;
  variant: string;
  executed: number;
  reached: number;
  sent: number;
  failed: number;
  skipped: number;
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
  bounced: number;
  optedOut: number;
}

const MEASURES = Object.keys(EVENT_MEASURES) as EventMeasure[];

/**
 * Per step and variant of the sequence (one step when `stepId` is given): enrollments that
 * reached, were sent, …, and had each kind of event about the step's message. Reads the variant
 * rows through their partial index, then each enrollment's events of the step by enrollment.
 */
export async function variantFigures(db: Queryable, sequenceId: string, stepId?: string): Promise<VariantFigureRow[]> {
  const flags = MEASURES.map((m, i) => `bool_or(ev.type = any($${i + 3}::text[])) as "${m}"`).join(', ');
  const counts = MEASURES.map((m) => `count(*) filter (where m."${m}")::int as "${m}"`).join(', ');
  return db.query(
    `with visits as (
       select step_id, variant, enrollment_id, count(*)::int as executed,
         bool_or(status = 'succeeded' and step_type in ${MESSAGE_STEP_TYPES}) as sent,
         bool_or(status = 'failed') as failed, bool_or(status = 'skipped') as skipped
       from sequence_executions
       where sequence_id = $1 and variant is not null and ($2::text is null or step_id = $2)
       group by step_id, variant, enrollment_id
     )
     select v.step_id as "stepId", v.variant, sum(v.executed)::int as executed, count(*)::int as reached,
       count(*) filter (where v.sent)::int as sent, count(*) filter (where v.failed)::int as failed,
       count(*) filter (where v.skipped)::int as skipped, ${counts}
     from visits v
     left join lateral (
       select ${flags} from events ev where ev.enrollment_id = v.enrollment_id and ev.step_id = v.step_id
     ) m on true
     group by v.step_id, v.variant`,
    [sequenceId, stepId ?? null, ...MEASURES.map((m) => [...EVENT_MEASURES[m]])],
  );
}

/** Conversions and meetings credited (as in src/db/stats.ts) to a message sent as a variant. */
export async function variantOutcomeFigures(
  db: Queryable,
  sequenceId: string,
): Promise<Array<{ stepId: string; variant: string; outcome: 'converted' | 'meetingBooked'; n: number }>> {
  return db.query(
    `with outcomes as (${OUTCOMES_OF_SEQUENCE}), credited as (
       select o.enrollment_id, o.outcome, c.step_id, c.variant
       from outcomes o
       cross join lateral (${CREDITED_MESSAGE}) c
     )
     select step_id as "stepId", variant, outcome, count(distinct enrollment_id)::int as n
     from credited where variant is not null group by step_id, variant, outcome`,
    [sequenceId],
  );
}

export interface AbDecision {
  sequenceId: string;
  stepId: string;
  variant: string;
  decidedAt: Date;
  figures: Record<string, unknown>;
}

const DECISION_COLUMNS = `sequence_id as "sequenceId", step_id as "stepId", variant, decided_at as "decidedAt", figures`;

/** The decided winners of the given sequences' steps. */
export async function abDecisionsOf(db: Queryable, sequenceIds: string[]): Promise<AbDecision[]> {
  if (sequenceIds.length === 0) return [];
  return db.query(`select ${DECISION_COLUMNS} from ab_decisions where sequence_id = any($1::uuid[])`, [sequenceIds]);
}

/**
 * Records a step's winner once: a decision already there (another worker's) is kept and
 * answered, so every worker ends up giving the same winner.
 */
export async function recordAbDecision(
  db: Queryable,
  decision: AbDecision & { workspaceId: string },
): Promise<AbDecision> {
  const [inserted] = await db.query<AbDecision>(
    `insert into ab_decisions (sequence_id, step_id, workspace_id, variant, decided_at, figures)
     values ($1, $2, $3, $4, $5, $6::jsonb)
     on conflict (sequence_id, step_id) do nothing
     returning ${DECISION_COLUMNS}`,
    [decision.sequenceId, decision.stepId, decision.workspaceId, decision.variant, decision.decidedAt, JSON.stringify(decision.figures)],
  );
  if (inserted) return inserted;
  const [kept] = await db.query<AbDecision>(`select ${DECISION_COLUMNS} from ab_decisions where sequence_id = $1 and step_id = $2`, [
    decision.sequenceId,
    decision.stepId,
  ]);
  return kept!;
}

/** The lead's latest enrollment in the sequence (it seeds the lead's A/B assignment), if any. */
export async function latestEnrollmentId(db: Queryable, workspaceId: string, sequenceId: string, leadId: string): Promise<string | undefined> {
  const [row] = await db.query<{ id: string }>(
    `select id from enrollments where workspace_id = $1 and sequence_id = $2 and lead_id = $3 order by enrolled_at desc limit 1`,
    [workspaceId, sequenceId, leadId],
  );
  return row?.id;
}
