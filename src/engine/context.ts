/**
 * What the executor needs to decide one step for one enrollment, loaded in one round trip,
 * plus a cache of parsed definitions (a version never changes once written).
 */
import { sequenceDefinitionSchema, type Lead, type SequenceDefinition } from '../core/definition.ts';
import type { Queryable } from '../db/db.ts';
import { ENROLLMENT_COLUMNS, type EnrollmentRecord } from '../db/enrollments.ts';

export interface RunContext {
  enrollment: EnrollmentRecord;
  lead: Lead;
  definition: SequenceDefinition;
  workspaceZone: string;
}

const definitions = new Map<string, SequenceDefinition>();
const MAX_CACHED_DEFINITIONS = 1000;

export function parseStoredDefinition(key: string, stored: unknown): SequenceDefinition {
  let parsed = definitions.get(key);
  if (!parsed) {
    parsed = sequenceDefinitionSchema.parse(stored);
    if (definitions.size >= MAX_CACHED_DEFINITIONS) definitions.delete(definitions.keys().next().value!);
    definitions.set(key, parsed);
  }
  return parsed;
}

export async function loadRunContext(db: Queryable, enrollmentId: string): Promise<RunContext | undefined> {
  const columns = ENROLLMENT_COLUMNS.split(',')
    .map((c) => `e.${c.trim()}`)
    .join(', ');
  const [row] = await db.query<
    EnrollmentRecord & { lead: Lead; definition: unknown; workspaceZone: string }
  >(
    `select ${columns},
       json_build_object('id', l.id, 'email', l.email, 'phone', l.phone, 'timezone', l.timezone,
         'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company, 'title', l.title,
         'customFields', l.custom_fields) as lead,
       v.definition,
       w.timezone as "workspaceZone"
     from enrollments e
     join leads l on l.id = e.lead_id
     join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
     join workspaces w on w.id = e.workspace_id
     where e.id = $1`,
    [enrollmentId],
  );
  if (!row) return undefined;
  const { lead, definition, workspaceZone, ...enrollment } = row;
  return {
    enrollment: enrollment as EnrollmentRecord,
    lead,
    definition: parseStoredDefinition(`${enrollment.sequenceId}:${enrollment.sequenceVersion}`, definition),
    workspaceZone,
  };
}
