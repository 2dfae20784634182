/**
 * Sequences started by a custom event (`trigger` in the definition, docs/SEQUENCES.md, "Custom
 * events"): which active sequences of a workspace a set of event types starts, and which leads
 * a once-per-lead trigger must leave out because they were enrolled before.
 */
import type { Queryable } from './db.ts';

export interface TriggeredSequence {
  sequenceId: string;
  event: string;
  reentry: boolean;
}

/** The active sequences whose current version's trigger is one of `types`. */
export async function sequencesTriggeredBy(db: Queryable, workspaceId: string, types: readonly string[]): Promise<TriggeredSequence[]> {
  if (types.length === 0) return [];
  return db.query<TriggeredSequence>(
    `select s.id as "sequenceId", v.definition->'trigger'->>'event' as event,
       coalesce((v.definition->'trigger'->>'reentry')::boolean, false) as reentry
     from sequences s
     join sequence_versions v on v.sequence_id = s.id and v.version = s.current_version
     where s.workspace_id = $1 and s.status = 'active' and v.definition->'trigger'->>'event' = any($2::text[])
     order by s.id`,
    [workspaceId, types],
  );
}

/** Of `leadIds`, those that were ever enrolled in the sequence (in any status). */
export async function leadsEverEnrolled(db: Queryable, sequenceId: string, leadIds: readonly string[]): Promise<Set<string>> {
  if (leadIds.length === 0) return new Set();
  const rows = await db.query<{ leadId: string }>(
    'select distinct lead_id as "leadId" from enrollments where sequence_id = $1 and lead_id = any($2::uuid[])',
    [sequenceId, leadIds],
  );
  return new Set(rows.map((r) => r.leadId));
}
