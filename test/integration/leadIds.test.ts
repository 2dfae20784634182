/**
 * Lead ids grow with time (migration 006): leads created together sort together, so the
 * index entries every step writes under its lead share leaves. Through the API's insert on
 * every server; through the table's default where the server has `uuidv7()` (PGlite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertLeads, insertNewLeads } from '../../src/db/leads.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const kinds = await databaseKinds();
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisecondOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe.each(kinds)('lead ids on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('are time-ordered UUIDs when the API inserts them, in creation order across batches', async () => {
    const workspace = await ensureWorkspace(database.db, `ids-${kind}`);
    const first = await insertNewLeads(database.db, workspace.id, [{ email: 'a@ids.test' }, { email: 'b@ids.test' }]);
    await new Promise((resolve) => setImmediate(resolve));
    const before = Date.now();
    const second = await insertNewLeads(database.db, workspace.id, [{ email: 'c@ids.test' }]);
    for (const lead of [...first, ...second]) expect(lead.id).toMatch(V7);
    expect(millisecondOf(second[0]!.id)).toBeGreaterThanOrEqual(before);
    expect(first.map((l) => l.index)).toEqual([0, 1]);
  });

  it.runIf(kind === 'pglite')('are time-ordered UUIDs by the table default on PGlite', async () => {
    const workspace = await ensureWorkspace(database.db, `ids-default-${kind}`);
    const leads = await insertLeads(database.db, workspace.id, [{ email: 'd@ids.test' }, { email: 'e@ids.test' }]);
    for (const lead of leads) expect(lead.id).toMatch(V7);
  });
});
