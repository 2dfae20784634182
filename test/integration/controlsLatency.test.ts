/**
 * Resume, skip and outcomes act at once (issue 14), even when the enrollment was claimed before
 * the control: a claim whose enrollment turned out paused gives its lease back, so a resume
 * does not wait the lease out. The clock never moves here: whatever runs, runs "now".
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/db/enrollments.ts';
import { Executor } from '../../src/engine/executor.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, NO_QUIET_HOURS, createEngineKit, lead, type EngineKit } from '../helpers/engineKit.ts';

const kinds = await databaseKinds();

const sequence = {
  name: 'Email, task, email',
  schedule: ALWAYS_OPEN,
  quietHours: NO_QUIET_HOURS,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
    { id: 'todo', type: 'task', title: 'Call them', outcomes: ['done'] },
    { id: 'bye', type: 'email', subject: 'Bye', body: 'Bye' },
  ],
} as const;

describe.each(kinds)('controls act at once on %s', (kind) => {
  let database: TestDatabase;
  let kit: EngineKit;
  let sequenceId: string;
  let n = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createEngineKit(database.db, { workspace: `latency-${kind}`, leaseMs: 60_000 });
    sequenceId = await kit.addSequence(sequence);
  });
  afterAll(async () => {
    await database?.close();
  });

  const enroll = async () => (await kit.enrollAll(sequenceId, await kit.addLeads([lead(n++)])))[0]!;
  const sendsOf = (id: string) => kit.mock.sends.filter((s) => s.idempotencyKey.startsWith(id)).map((s) => s.idempotencyKey.split(':')[1]);
  /** A claim taken before the control, as the dispatcher takes it (a queued job in distributed mode). */
  const claimOne = async (id: string) => {
    const now = kit.clock.now();
    const claims = await claimDue(kit.db, { now, limit: 1000, leaseUntil: new Date(now.getTime() + kit.engine.deps.leaseMs), leaseId: randomUUID() });
    const claim = claims.find((c) => c.enrollmentId === id);
    expect(claim).toBeDefined();
    return claim!;
  };

  it('resume of an enrollment paused while claimed runs its step at once, not after the lease', async () => {
    const id = await enroll();
    const claim = await claimOne(id);
    expect((await kit.engine.act({ enrollmentId: id, action: 'pause', actor: 'op' })).ok).toBe(true);
    await new Executor(kit.engine.deps).run(claim); // finds it paused: runs nothing
    expect(sendsOf(id)).toEqual([]);
    expect((await kit.engine.act({ enrollmentId: id, action: 'resume', actor: 'op' })).ok).toBe(true);
    await kit.engine.dispatcher.drain(); // same instant
    expect(sendsOf(id)).toEqual(['intro']);
  });

  it('resume that lands while the claim is still queued also runs at once', async () => {
    const id = await enroll();
    const claim = await claimOne(id);
    expect((await kit.engine.act({ enrollmentId: id, action: 'pause', actor: 'op' })).ok).toBe(true);
    expect((await kit.engine.act({ enrollmentId: id, action: 'resume', actor: 'op' })).ok).toBe(true);
    await new Executor(kit.engine.deps).run(claim);
    await kit.engine.dispatcher.drain();
    expect(sendsOf(id)).toEqual(['intro']);
  });

  it('skip of a claimed enrollment moves on at once; skip of a waiting task runs the next step at once', async () => {
    const id = await enroll();
    const claim = await claimOne(id);
    expect((await kit.engine.act({ enrollmentId: id, action: 'skip', actor: 'op' })).ok).toBe(true);
    await new Executor(kit.engine.deps).run(claim); // its lease was taken away: runs nothing
    await kit.engine.dispatcher.drain();
    const [row] = await kit.db.query<{ status: string; step: string }>('select status, current_step_id as step from enrollments where id = $1', [id]);
    expect(row).toEqual({ status: 'waiting', step: 'todo' });
    expect((await kit.engine.act({ enrollmentId: id, action: 'skip', actor: 'op' })).ok).toBe(true);
    await kit.engine.dispatcher.drain();
    expect(sendsOf(id)).toEqual(['bye']);
  });

  it('an outcome on a waiting task runs the next step at once', async () => {
    const id = await enroll();
    await kit.engine.dispatcher.drain();
    expect((await kit.engine.recordOutcome({ enrollmentId: id, outcome: 'done', actor: 'op' })).ok).toBe(true);
    await kit.engine.dispatcher.drain();
    expect(sendsOf(id)).toEqual(['intro', 'bye']);
  });
});
