/** What `touchpoint serve` asks the store on a start: is this its first one (no token ever made)? */
import type { Queryable } from './db.ts';

export async function anyTokenExists(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from api_tokens');
  return Boolean(row && row.n > 0);
}
