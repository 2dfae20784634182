/**
 * The per-lead frequency cap at run time (issue 14): at most N sends per channel per local day
 * to one lead across all its sequences — even when the sends race in one batch — and a send
 * over the cap is deferred to the next day's opening (never dropped), with the reason on the
 * lead's timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFrequencyCaps } from '../../src/db/workspaceSettings.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const oneEmail = (name: string) => ({
  name,
  schedule: { ...ALWAYS_OPEN, start: '09:00', end: '17:00' },
  quietHours: NO_QUIET_HOURS,
  steps: [{ id: 'hello', type: 'email', subject: `Hi from ${name}`, body: 'Hello' }],
});

describe.each(kinds)('frequency cap on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function sequences(kit: EngineKit, count: number): Promise<string[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => kit.addSequence(oneEmail(`S${i}`))));
  }

  it('five sequences due at once for one lead (one batch): three emails today, two the next morning, reasons on the timeline', async () => {
    // Wednesday 10:00 in New York.
    const kit = await createEngineKit(database.db, { workspace: `cap-batch-${kind}`, start: '2026-03-04T15:00:00Z' });
    const [leadId, other] = await kit.addLeads([lead(1), lead(2)]);
    for (const sequenceId of await sequences(kit, 5)) await kit.enrollAll(sequenceId, [leadId!, other!]);
    await kit.engine.dispatcher.drain();

    const to = (email: string) => kit.mock.sends.filter((s) => s.recipient === email);
    expect(to('lead1@acme.test')).toHaveLength(3);
    expect(to('lead2@acme.test')).toHaveLength(3);
    const deferred = await kit.db.query<{ n: number; due: Date }>(
      `select count(*)::int as n, min(next_execution_at) as due from enrollments where lead_id = $1 and status = 'active'`,
      [leadId],
    );
    // Thursday 09:00 New York: the first opening after the lead's day ends.
    expect(deferred[0]).toEqual({ n: 2, due: new Date('2026-03-05T14:00:00Z') });
    const reasons = await kit.db.query<{ action: string; reason: string }>(
      `select action, reason from enrollment_changes where lead_id = $1 and action = 'defer'`,
      [leadId],
    );
    expect(reasons).toHaveLength(2);
    expect(reasons[0]!.reason).toMatch(/frequency_cap/);
    expect(reasons[0]!.reason).toMatch(/3 emails/);

    kit.clock.set(new Date('2026-03-05T14:00:00Z'));
    await kit.engine.dispatcher.drain();
    expect(to('lead1@acme.test')).toHaveLength(5);
  }, 60_000);

  it('counts sends of earlier batches and other sequences, and honours the workspace setting', async () => {
    const kit = await createEngineKit(database.db, { workspace: `cap-setting-${kind}`, start: '2026-03-04T15:00:00Z' });
    await setFrequencyCaps(kit.db, kit.workspaceId, { email: 1 });
    const [leadId] = await kit.addLeads([lead(3)]);
    const [first, second] = await sequences(kit, 2);
    await kit.enrollAll(first!, [leadId!]);
    await kit.engine.dispatcher.drain();
    // The database is shared with the test above: count this lead's sends only.
    const mine = () => kit.mock.sends.filter((s) => s.recipient === 'lead3@acme.test');
    expect(mine()).toHaveLength(1);

    kit.clock.set(new Date('2026-03-04T20:00:00Z')); // 15:00, same local day
    await kit.enrollAll(second!, [leadId!]);
    await kit.engine.dispatcher.drain();
    expect(mine()).toHaveLength(1);
    kit.clock.set(new Date('2026-03-05T14:00:00Z'));
    await kit.engine.dispatcher.drain();
    expect(mine()).toHaveLength(2);
  }, 60_000);
});
