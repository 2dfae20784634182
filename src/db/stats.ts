/** Per-sequence figures for `GET /api/sequences/{id}/stats`: one grouped read each. */
import type { Queryable } from './db.ts';

export async function executionCountsByStep(
  db: Queryable,
  sequenceId: string,
): Promise<Array<{ stepId: string; status: string; n: number }>> {
  return db.query(
    `select step_id as "stepId", status, count(*)::int as n from sequence_executions
     where sequence_id = $1 group by step_id, status`,
    [sequenceId],
  );
}

/** Enrollments that saw each event type, by the step whose message it is about (an email opened twice counts once). */
export async function eventCountsByStep(
  db: Queryable,
  sequenceId: string,
): Promise<Array<{ stepId: string | null; type: string; n: number }>> {
  return db.query(
    `select ev.step_id as "stepId", ev.type, count(distinct ev.enrollment_id)::int as n
     from events ev join enrollments e on e.id = ev.enrollment_id
     where e.sequence_id = $1 group by ev.step_id, ev.type`,
    [sequenceId],
  );
}

export async function enrollmentCountsByStatus(db: Queryable, sequenceId: string): Promise<Array<{ status: string; n: number }>> {
  return db.query(`select status, count(*)::int as n from enrollments where sequence_id = $1 group by status`, [sequenceId]);
}
