/** Empties the engine's tables between runs, so one store serves a workload's repeated runs. */
import type { Db } from '../../src/db/db.ts';

export async function resetStore(db: Db): Promise<void> {
  await db.query(
    `truncate events, sequence_executions, enrollment_changes, activities, enrollments, suppressions, leads,
       sequence_versions, sequences, api_tokens, workspaces, mock_outbox restart identity cascade`,
  );
}
