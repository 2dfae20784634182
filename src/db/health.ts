/** Whether the database answers at all: the readiness probe's one question. Throws when it does not. */
import type { Queryable } from './db.ts';

export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('select 1');
}
