/**
 * Per-sequence figures for `GET /api/sequences/{id}/stats`: one grouped read each. Every figure
 * but `executed` counts enrollments, not rows (a step revisited in a loop, an email opened twice:
 * one). `grouping sets ((step_id), ())` gives each step's figures and the sequence's in one read;
 * the sequence row (`stepId` null) counts an enrollment once however many steps it saw.
 * Definitions: docs/ANALYTICS.md.
 */
import type { Queryable } from './db.ts';

/** Step types whose execution sends a message to the lead. */
export const MESSAGE_STEP_TYPES = `('email', 'sms', 'voice')`;

export type ExecutionFigures = {
  /** null: the whole sequence. */
  stepId: string | null;
  executed: number;
  reached: number;
  sent: number;
  failed: number;
  skipped: number;
  branchThen: number;
  branchElse: number;
};

export async function executionFiguresByStep(db: Queryable, sequenceId: string): Promise<ExecutionFigures[]> {
  // A branch records the way it went in its execution's metadata (core/decide.ts: `branch: 'then' | 'else'`).
  return db.query(
    `select step_id as "stepId", count(*)::int as executed,
       count(distinct enrollment_id)::int as reached,
       count(distinct enrollment_id) filter (where status = 'succeeded' and step_type in ${MESSAGE_STEP_TYPES})::int as sent,
       count(distinct enrollment_id) filter (where status = 'failed')::int as failed,
       count(distinct enrollment_id) filter (where status = 'skipped')::int as skipped,
       count(distinct enrollment_id) filter (where step_type = 'branch' and metadata->>'branch' = 'then')::int as "branchThen",
       count(distinct enrollment_id) filter (where step_type = 'branch' and metadata->>'branch' = 'else')::int as "branchElse"
     from sequence_executions where sequence_id = $1
     group by grouping sets ((step_id), ())`,
    [sequenceId],
  );
}

/** Which events count towards which measure (docs/ANALYTICS.md). */
export const EVENT_MEASURES = {
  delivered: ['email.delivered', 'sms.delivered', 'call.answered'],
  opened: ['email.opened'],
  clicked: ['email.clicked'],
  replied: ['email.replied', 'sms.replied'],
  bounced: ['email.bounced'],
  optedOut: ['email.unsubscribed', 'sms.opted_out'],
} as const;
export type EventMeasure = keyof typeof EVENT_MEASURES;

/**
 * Enrollments per step and measure, by the step whose message the event is about; the sequence
 * rows (`total`) count each enrollment once per measure, so a lead delivered both an email and an
 * SMS is one delivered enrollment of the sequence.
 */
export async function eventFiguresByStep(
  db: Queryable,
  sequenceId: string,
): Promise<Array<{ stepId: string | null; total: boolean; measure: EventMeasure; n: number }>> {
  const measures = Object.keys(EVENT_MEASURES) as EventMeasure[];
  const cases = measures.map((m, i) => `when ev.type = any($${i + 2}::text[]) then '${m}'`).join(' ');
  return db.query(
    `with measured as (
       select ev.step_id, ev.enrollment_id, case ${cases} end as measure
       from events ev join enrollments e on e.id = ev.enrollment_id
       where e.sequence_id = $1
     )
     select step_id as "stepId", grouping(step_id) = 1 as total, measure, count(distinct enrollment_id)::int as n
     from measured where measure is not null group by grouping sets ((step_id, measure), (measure))`,
    [sequenceId, ...measures.map((m) => [...EVENT_MEASURES[m]])],
  );
}

/**
 * The enrollments that converted or booked a meeting, and when: `enrollment_id, outcome, at,
 * received_at`. `scope` is a condition on the enrollment `e` (`e.sequence_id = $1` for the
 * stats); `window`, when given, keeps the outcomes Touchpoint learned of in [`from`, `to`)
 * (parameters named by the caller) — the reports' period. `at` is the outcome's moment, the one
 * its credit is decided by (see CREDITED_MESSAGE); `received_at` is when Touchpoint learned of
 * it (a conversion: the same moment; a meeting: the first booking's arrival). The one
 * definition of both measures: the stats, the variants' stats and the reports read it.
 */
export function outcomesOf(scope: string, window?: { from: string; to: string }): string {
  const converted = window ? `and coalesce(e.finished_at, e.updated_at) >= ${window.from} and coalesce(e.finished_at, e.updated_at) < ${window.to}` : '';
  // A booking received after the period cannot be the first one received in it; its earlier ones count below.
  const booked = window ? `and ev.workspace_id = e.workspace_id and ev.received_at < ${window.to}` : '';
  const firstBooked = window ? `having min(ev.received_at) >= ${window.from}` : '';
  return `
       select e.id as enrollment_id, 'converted' as outcome, coalesce(e.finished_at, e.updated_at) as at, coalesce(e.finished_at, e.updated_at) as received_at
         from enrollments e
        where ${scope} and (e.status = 'converted' or e.status_reason = 'converted') ${converted}
       union all
       -- A booking is matched to the lead (its invitee's email), not an enrollment: it counts for
       -- each enrollment of the lead in this sequence that was running when it was booked.
       select e.id, 'meetingBooked', min(ev.occurred_at), min(ev.received_at)
         from events ev join enrollments e
           on e.id = ev.enrollment_id or (ev.enrollment_id is null and ev.lead_id = e.lead_id)
        where ${scope} and ev.type = 'meeting.booked' ${booked}
          and ev.occurred_at >= e.enrolled_at and (e.finished_at is null or ev.occurred_at <= e.finished_at)
        group by e.id ${firstBooked}`;
}

/** The sequence's (`$1`) outcomes: shared by the per-step figures and the per-variant ones (src/db/variantStats.ts). */
export const OUTCOMES_OF_SEQUENCE = outcomesOf('e.sequence_id = $1');

/**
 * The message an outcome `o` (`enrollment_id`, `at`) is credited to: the last one the
 * enrollment was sent at or before that moment. A lateral subquery: `left join lateral
 * (…CREDITED_MESSAGE…) c on true` (no row: nothing had been sent yet).
 */
export const CREDITED_MESSAGE = `
         select x.step_id, x.variant, x.channel, x.owner_id from sequence_executions x
          where x.enrollment_id = o.enrollment_id and x.status = 'succeeded' and x.step_type in ${MESSAGE_STEP_TYPES}
            and coalesce(x.completed_at, x.started_at) <= o.at
          order by coalesce(x.completed_at, x.started_at) desc limit 1`;

/**
 * Outcomes that are about the lead rather than one message — converted (the enrollment ended
 * `converted`, or exited for that reason) and a meeting booked while the enrollment ran — credited to the last message the
 * enrollment was sent at or before that moment; `stepId` null with `total` false: no message
 * had been sent yet. The `total` rows count the sequence's enrollments once each.
 */
export async function outcomeFiguresByStep(
  db: Queryable,
  sequenceId: string,
): Promise<Array<{ stepId: string | null; total: boolean; outcome: 'converted' | 'meetingBooked'; n: number }>> {
  return db.query(
    `with outcomes as (${OUTCOMES_OF_SEQUENCE}), credited as (
       select o.enrollment_id, o.outcome, c.step_id
       from outcomes o left join lateral (${CREDITED_MESSAGE}) c on true
     )
     select step_id as "stepId", grouping(step_id) = 1 as total, outcome, count(distinct enrollment_id)::int as n
     from credited group by grouping sets ((step_id, outcome), (outcome))`,
    [sequenceId],
  );
}

export async function enrollmentCountsByStatus(db: Queryable, sequenceId: string): Promise<Array<{ status: string; n: number }>> {
  return db.query(`select status, count(*)::int as n from enrollments where sequence_id = $1 group by status`, [sequenceId]);
}

/**
 * Replies by class (docs/ANALYTICS.md, "Reply sentiment"), per step and for the sequence:
 * replies (events, not enrollments — each reply is classified on its own) of each class, and how
 * many of them an operator corrected.
 */
export async function replyClassFiguresByStep(
  db: Queryable,
  sequenceId: string,
): Promise<Array<{ stepId: string | null; total: boolean; replyClass: string; n: number; corrected: number }>> {
  return db.query(
    `select ev.step_id as "stepId", grouping(ev.step_id) = 1 as total, ev.reply_class as "replyClass", count(*)::int as n,
       count(*) filter (where ev.reply_class_source = 'operator' and ev.reply_class is distinct from ev.reply_class_machine)::int as corrected
     from events ev join enrollments e on e.id = ev.enrollment_id
     where e.sequence_id = $1 and ev.reply_class is not null
     group by grouping sets ((ev.step_id, ev.reply_class), (ev.reply_class))`,
    [sequenceId],
  );
}
