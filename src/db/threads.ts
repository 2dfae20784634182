/**
 * Email threads in the store: the previous email of each enrollment (what a subject-less step
 * answers) and the execution a reply names by our Message-ID (docs/SEQUENCES.md, "Threads").
 * Both read `rendered.messageId`, written with the intent (migration 013 indexes it).
 */
import type { ThreadParent } from '../core/threads.ts';
import type { Queryable } from './db.ts';
import { EXECUTION_COLUMNS, type ExecutionRecord } from './executions.ts';

/**
 * The newest email of each enrollment that went out or may have (`succeeded`, or `unknown`
 * after a crash: it was never resent, so it is the thread either way), in one query.
 */
export async function previousEmails(db: Queryable, enrollmentIds: string[]): Promise<Map<string, ThreadParent>> {
  if (enrollmentIds.length === 0) return new Map();
  const rows = await db.query<{ enrollmentId: string; messageId: string; subject: string | null; references: unknown }>(
    `select distinct on (enrollment_id) enrollment_id as "enrollmentId", rendered ->> 'messageId' as "messageId",
            rendered ->> 'subject' as subject, rendered -> 'references' as "references"
       from sequence_executions
      where enrollment_id = any($1::uuid[]) and channel = 'email' and status in ('succeeded', 'unknown')
        and rendered ->> 'messageId' is not null
      order by enrollment_id, started_at desc, visit desc`,
    [enrollmentIds],
  );
  return new Map(
    rows.map((row) => [
      row.enrollmentId,
      {
        messageId: row.messageId,
        subject: row.subject ?? '',
        references: Array.isArray(row.references) ? row.references.filter((r): r is string => typeof r === 'string') : [],
      },
    ]),
  );
}

/** The execution whose email carried this Message-ID (brackets stripped), if it is ours. */
export async function findExecutionByMessageId(db: Queryable, messageId: string): Promise<ExecutionRecord | undefined> {
  const [row] = await db.query<ExecutionRecord>(
    `select ${EXECUTION_COLUMNS} from sequence_executions where rendered ->> 'messageId' = $1 limit 1`,
    [messageId],
  );
  return row;
}

/** Whether any of these Message-IDs (brackets stripped) is one of this workspace's emails. */
export async function namesOurEmail(db: Queryable, workspaceId: string, messageIds: string[]): Promise<boolean> {
  if (messageIds.length === 0) return false;
  const rows = await db.query(
    `select 1 from sequence_executions where rendered ->> 'messageId' = any($2::text[]) and workspace_id = $1 limit 1`,
    [workspaceId, messageIds],
  );
  return rows.length > 0;
}
