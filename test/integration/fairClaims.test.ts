/**
 * Fair claims across workspaces (issue 21; docs/ENGINE.md, "Fair claims across workspaces"): a
 * claim shares its batch among the workspaces with steps due, by their claim weight, so a small
 * workspace's step is claimed before a large workspace's backlog is done. Mechanism tests at one
 * instant of a manual clock, on PGlite and PostgreSQL; the rates are bench F's business.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDue, countDue, earliestDue } from '../../src/db/enrollments.ts';
import { setClaimWeight } from '../../src/db/workspaceSettings.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const oneEmail = {
  name: 'One email',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'Hello' }],
};

describe.each(kinds)('fair claims across workspaces on %s', (kind) => {
  let database: TestDatabase;
  // A store per test: claims a test leaves unrun come due again when their leases run out.
  beforeEach(async () => {
    database = await openTestDatabase(kind);
  });
  afterEach(async () => {
    await database?.close();
  });

  /** A workspace with `n` enrollments due at the kit clock's current time. */
  async function workspaceWithDue(name: string, n: number, start: string, from = 0): Promise<{ kit: EngineKit; ids: string[] }> {
    const kit = await createEngineKit(database.db, { workspace: `${name}-${kind}-${randomUUID().slice(0, 8)}`, start });
    const leads = await kit.addLeads(Array.from({ length: n }, (_, i) => lead(from + i)));
    const ids = await kit.enrollAll(await kit.addSequence(oneEmail), leads);
    return { kit, ids };
  }

  const claim = (now: Date, limit: number) =>
    claimDue(database.db, { now, limit, leaseUntil: new Date(now.getTime() + 60_000), leaseId: randomUUID() });

  it("a small workspace's step is claimed in the first batch, before a large workspace's older backlog", async () => {
    const big = await workspaceWithDue('big', 250, '2030-01-01T10:00:00Z');
    // Due a second after the whole backlog: in due order alone it would wait for 250 claims.
    const small = await workspaceWithDue('small', 2, '2030-01-01T10:00:01Z', 1000);
    const now = new Date('2030-01-01T10:00:02Z');
    expect(await countDue(database.db, now)).toBe(252);
    expect(await earliestDue(database.db)).toEqual(new Date('2030-01-01T10:00:00Z'));

    const first = await claim(now, 100);
    expect(first).toHaveLength(100);
    const smallIds = new Set(small.ids);
    expect(first.filter((c) => smallIds.has(c.enrollmentId))).toHaveLength(2);
    // The big workspace's share is still taken in its own due order (its oldest first).
    const bigIds = new Set(big.ids);
    expect(first.filter((c) => bigIds.has(c.enrollmentId))).toHaveLength(98);

    // Work-conserving: with the small one drained, the big one gets whole batches.
    expect(await claim(now, 100)).toHaveLength(100);
    expect(await claim(now, 100)).toHaveLength(52);
    expect(await claim(now, 100)).toHaveLength(0);
    expect(await countDue(database.db, now)).toBe(0);
  }, 60_000);

  it('takes steps due at the same instant by id, and returns them in that order, whatever the rows\' physical order', async () => {
    const { ids } = await workspaceWithDue('ties', 6, '2032-01-01T10:00:00Z');
    const due = new Date('2032-01-01T10:00:00Z');
    // Rewritten newest id first: each row's new version lands after the others', so the table
    // and its due index hold them in the reverse of id order (docs/SIMULATION.md, Findings 6).
    for (const id of [...ids].sort().reverse()) {
      await database.db.query('update enrollments set next_execution_at = $2 where id = $1', [id, due]);
    }
    const byId = [...ids].sort();
    const first = await claim(due, 4);
    expect(first.map((c) => c.enrollmentId)).toEqual(byId.slice(0, 4));
    expect((await claim(due, 4)).map((c) => c.enrollmentId)).toEqual(byId.slice(4));
  }, 60_000);

  it('shares a batch by claim weight between workspaces that both have a backlog', async () => {
    const heavy = await workspaceWithDue('heavy', 200, '2031-01-01T10:00:00Z');
    await workspaceWithDue('light', 200, '2031-01-01T10:00:05Z', 1000);
    await setClaimWeight(database.db, heavy.kit.workspaceId, 3);
    const now = new Date('2031-01-01T10:00:10Z');
    const batch = await claim(now, 100);
    const heavyIds = new Set(heavy.ids);
    const taken = batch.filter((c) => heavyIds.has(c.enrollmentId)).length;
    expect(batch).toHaveLength(100);
    expect(taken).toBe(75);
    expect(batch.length - taken).toBe(25);
  }, 60_000);

  it('the dispatcher runs the small workspace’s step in its first tick', async () => {
    const big = await workspaceWithDue('tick-big', 150, '2032-01-01T10:00:00Z');
    const small = await workspaceWithDue('tick-small', 1, '2032-01-01T10:00:01Z', 1000);
    big.kit.clock.set(new Date('2032-01-01T10:00:02Z'));
    expect(await big.kit.engine.dispatcher.tick()).toBe(100);
    const [row] = await database.db.query<{ status: string }>('select status from enrollments where id = $1', [small.ids[0]]);
    expect(row!.status).toBe('completed');
    await big.kit.engine.dispatcher.drain();
    expect(await countDue(database.db, new Date('2032-01-01T10:00:02Z'))).toBe(0);
  }, 60_000);
});
