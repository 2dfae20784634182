/**
 * What the executor reads for a batch of enrollments, in one round trip
 * (`src/db/functions/engine_run_contexts.sql`): each enrollment with its lead, its workspace's
 * zone, its facts, the channels its addresses are suppressed on and the current visit's
 * execution row.
 */
import type { Fact } from '../core/conditions.ts';
import type { Lead } from '../core/definition.ts';
import type { Queryable } from './db.ts';
import type { EnrollmentRecord } from './enrollments.ts';
import type { ExecutionRecord } from './executions.ts';

export interface StoredRunContext {
  enrollment: EnrollmentRecord;
  /** The lead's JSON shape is the core's `Lead`: the function builds it field by field. */
  lead: Lead;
  workspaceZone: string;
  facts: Fact[];
  suppressed: Array<'email' | 'sms' | 'voice'>;
  execution: ExecutionRecord | undefined;
}

interface StoredContext {
  enrollment: Record<string, unknown>;
  lead: Lead;
  workspaceZone: string;
  facts: Array<{ type: Fact['type']; at: string; stepId: string | null; outcome: string | null; properties: Record<string, unknown> | null; replyClass: string | null }>;
  suppressed: Array<'email' | 'sms' | 'voice'>;
  execution: Record<string, unknown> | null;
}

/** The contexts of the enrollments among `ids` (a missing id has none), in no particular order. */
export async function loadStoredRunContexts(db: Queryable, ids: string[]): Promise<StoredRunContext[]> {
  const rows = await db.query<{ context: StoredContext }>('select engine_run_contexts($1::uuid[]) as context', [ids]);
  return rows.map(({ context: stored }) => ({
    enrollment: fromStoredRow(stored.enrollment) as unknown as EnrollmentRecord,
    lead: stored.lead,
    workspaceZone: stored.workspaceZone,
    facts: stored.facts.map((f) => ({ type: f.type, at: new Date(f.at), stepId: f.stepId, outcome: f.outcome, properties: f.properties, replyClass: f.replyClass })),
    suppressed: stored.suppressed,
    execution: stored.execution ? (fromStoredRow(stored.execution) as unknown as ExecutionRecord) : undefined,
  }));
}

/**
 * A row as `row_to_json` gives it → the shape our `select … as "camelCase"` column lists give:
 * snake_case keys in camelCase, timestamps (`*_at` columns) as Dates.
 */
function fromStoredRow(stored: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column in stored) {
    const value = stored[column];
    out[camelCase(column)] = typeof value === 'string' && column.endsWith('_at') ? new Date(value) : value;
  }
  return out;
}

/** Column names are few and repeat on every row: convert each once. */
const camelNames = new Map<string, string>();
function camelCase(column: string): string {
  let name = camelNames.get(column);
  if (name === undefined) {
    name = column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    camelNames.set(column, name);
  }
  return name;
}
