import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import type { DispatcherOptions } from '../../src/engine/dispatcher.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, type EngineKit } from '../helpers/engineKit.ts';

const ONE_STEP = {
  name: 'One step',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [{ id: 'only', type: 'sms', text: 'Hi' }],
} as const;

// PGlite has no autovacuum: the embedded dispatcher vacuums and analyzes the store itself.
describe('embedded store upkeep', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database?.close();
  });
  const vacuums = async () =>
    (await database.db.query<{ n: number }>(`select vacuum_count::int as n from pg_stat_user_tables where relname = 'enrollments'`))[0]!.n;
  /** An engine on the kit's store with its own manual clock and the upkeep options under test. */
  const engineWith = (kit: EngineKit, options: DispatcherOptions) => {
    const clock = new ManualClock(kit.clock.now().toISOString());
    return createEngine({ ...kit.engine.deps, clock, adapters: new MockDelivery({ now: () => clock.now() }).adapters() }, options);
  };

  /** 200 enrollments due in three days (numbered from `from`), the table's statistics refreshed. */
  const enrollDormant = async (kit: EngineKit, sequenceId: string, from: number) => {
    const dormant = await kit.enrollAll(sequenceId, await kit.addLeads(Array.from({ length: 200 }, (_, i) => lead(from + i))));
    await database.db.query(`update enrollments set next_execution_at = $2 where id = any($1::uuid[])`, [
      dormant,
      new Date(kit.clock.now().getTime() + 3 * 86_400_000),
    ]);
    await database.db.query('analyze enrollments');
  };

  it('vacuums the enrollments table every `vacuumEveryClaims` claims', async () => {
    const kit = await createEngineKit(database.db, { workspace: 'vacuum' });
    const leadIds = await kit.addLeads(Array.from({ length: 25 }, (_, i) => lead(i)));
    const sequenceId = await kit.addSequence(ONE_STEP);
    await kit.enrollAll(sequenceId, leadIds);
    const before = await vacuums();
    const engine = engineWith(kit, { batchSize: 10, vacuumEveryClaims: 10 });
    expect(await engine.dispatcher.drain()).toBe(25);
    // 25 claims in batches of 10: vacuumed after the 10th and the 20th.
    expect((await vacuums()) - before).toBe(2);
  });

  it('on a big table, waits for claims to reach a fifth of its rows before vacuuming', async () => {
    const kit = await createEngineKit(database.db, { workspace: 'vacuum-scaled' });
    const sequenceId = await kit.addSequence(ONE_STEP);
    // 200 dormant enrollments (due in three days) make the table ~225 rows: a vacuum every 45 claims.
    await enrollDormant(kit, sequenceId, 1000);
    const before = await vacuums();
    const engine = engineWith(kit, { batchSize: 10, vacuumEveryClaims: 10, analyzeCheckEveryClaims: 1_000_000 });
    const enrollDue = async (from: number) =>
      kit.enrollAll(sequenceId, await kit.addLeads(Array.from({ length: 25 }, (_, i) => lead(from + i))));
    await enrollDue(0);
    expect(await engine.dispatcher.drain()).toBe(25);
    expect(await vacuums()).toBe(before); // 25 claims: under a fifth of ~225 rows
    await enrollDue(100);
    expect(await engine.dispatcher.drain()).toBe(25);
    expect((await vacuums()) - before).toBe(1); // 50 claims: past it
  });

  it('vacuums a big table at most `vacuumAtMostEveryClaims` claims apart, however many rows a fifth of it is', async () => {
    // The cap keeps the dead front of the due index small enough to stay in shared buffers
    // (src/engine/dispatcher.ts, VACUUM_AT_MOST_EVERY_CLAIMS); here 20, against a fifth of the table (over 45 rows).
    const kit = await createEngineKit(database.db, { workspace: 'vacuum-capped' });
    const sequenceId = await kit.addSequence(ONE_STEP);
    await enrollDormant(kit, sequenceId, 3000);
    const before = await vacuums();
    const engine = engineWith(kit, { batchSize: 10, vacuumEveryClaims: 10, vacuumAtMostEveryClaims: 20, analyzeCheckEveryClaims: 1_000_000 });
    await kit.enrollAll(sequenceId, await kit.addLeads(Array.from({ length: 25 }, (_, i) => lead(2000 + i))));
    expect(await engine.dispatcher.drain()).toBe(25);
    // Without the cap nothing would be vacuumed yet (the test above: 25 claims, under a fifth).
    expect((await vacuums()) - before).toBe(1);
  });

  it('analyzes enrollments and leads once they have grown past their last statistics, and only those', async () => {
    const kit = await createEngineKit(database.db, { workspace: 'analyze' });
    const sequenceId = await kit.addSequence({
      name: 'Two steps',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [
        { id: 'first', type: 'sms', text: 'Hi' },
        { id: 'second', type: 'sms', text: 'Again' },
      ],
    });
    const analyses = async () =>
      Object.fromEntries(
        (
          await database.db.query<{ table: string; n: number }>(
            `select relname as table, analyze_count::int as n from pg_stat_user_tables
             where relname in ('enrollments', 'leads', 'sequence_executions')`,
          )
        ).map((r) => [r.table, r.n]),
      );
    const engine = engineWith(kit, { batchSize: 20, analyzeCheckEveryClaims: 20, vacuumEveryClaims: 1_000_000 });

    // More new rows than the tables held at their last analyze (none: never analyzed).
    await kit.enrollAll(sequenceId, await kit.addLeads(Array.from({ length: 120 }, (_, i) => lead(i))));
    const before = await analyses();
    expect(await engine.dispatcher.drain()).toBe(120); // one claim runs both steps
    const after = await analyses();
    expect(after.enrollments! - before.enrollments!).toBeGreaterThanOrEqual(1);
    expect(after.leads! - before.leads!).toBe(1);
    // Reached only by key; analyzed without a vacuum it would mislead the planner.
    expect(after.sequence_executions).toBe(before.sequence_executions);

    // A sixth more: far from doubling what the statistics describe, so nothing is analyzed.
    await kit.enrollAll(sequenceId, await kit.addLeads(Array.from({ length: 20 }, (_, i) => lead(500 + i))));
    const settled = await analyses();
    expect(await engine.dispatcher.drain()).toBe(20);
    expect(await analyses()).toEqual(settled);
  });
});
