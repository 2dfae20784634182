import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { MockDelivery } from '../../src/delivery/mock.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead } from '../helpers/engineKit.ts';

// PGlite has no autovacuum: the embedded dispatcher vacuums the enrollments table itself.
describe('embedded store upkeep', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database?.close();
  });

  it('vacuums the enrollments table every `vacuumEveryClaims` claims', async () => {
    const kit = await createEngineKit(database.db, { workspace: 'vacuum' });
    const leadIds = await kit.addLeads(Array.from({ length: 25 }, (_, i) => lead(i)));
    const sequenceId = await kit.addSequence({
      name: 'One step',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [{ id: 'only', type: 'sms', text: 'Hi' }],
    });
    await kit.enrollAll(sequenceId, leadIds);
    const vacuums = async () =>
      (await database.db.query<{ n: number }>(`select vacuum_count::int as n from pg_stat_user_tables where relname = 'enrollments'`))[0]!.n;
    const before = await vacuums();
    const clock = new ManualClock(kit.clock.now().toISOString());
    const engine = createEngine(
      { ...kit.engine.deps, clock, adapters: new MockDelivery({ now: () => clock.now() }).adapters() },
      { batchSize: 10, vacuumEveryClaims: 10 },
    );
    expect(await engine.dispatcher.drain()).toBe(25);
    // 25 claims in batches of 10: vacuumed after the 10th and the 20th.
    expect((await vacuums()) - before).toBe(2);
  });
});
