/**
 * Fairness in distributed mode (issue 21, F): the leader claims fairly across workspaces, and
 * its BullMQ queue (first in, first out) holds only what the workers drain in the next moment,
 * so a small workspace's step that comes due while a large one's backlog is running waits for
 * that moment, not for the backlog. A mechanism test, not a timing test: it compares positions
 * in the order the steps started, never durations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineKit, lead } from '../helpers/engineKit.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { count, distributedAvailable, seed, startCluster, threeSteps, type Cluster } from './harness.ts';

const available = await distributedAvailable();

/** Workspace A's backlog: deeper than the old queue bound (2,000 jobs), so that bound would show. */
const A_BACKLOG = 2500;
const B_COUNT = 5;

describe.skipIf(!available)('fair claims in distributed mode', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ env: { LEASE_SECONDS: '60' } });
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it("a small workspace's step that comes due during a large one's backlog runs before most of that backlog", async () => {
    const a = await seed(cluster, A_BACKLOG, threeSteps('Big import'));
    const startedOf = (sequenceId: string) =>
      count(cluster.db, `select count(*)::int as n from sequence_executions where sequence_id = $1 and step_id = 'intro'`, [sequenceId]);
    await cluster.spawnWorker();
    // A's backlog is being worked through: the leader has measured the workers' pace and filled its queue.
    await waitFor(async () => (await startedOf(a)) >= A_BACKLOG / 10, "a tenth of A's backlog to start", 120_000);

    const b = await createEngineKit(cluster.db, { start: new Date().toISOString(), workspace: `${cluster.prefix}-b` });
    const leadIds = await b.addLeads(Array.from({ length: B_COUNT }, (_, i) => lead(1_000_000 + i)));
    const bSequence = await b.addSequence(threeSteps('Small workspace'));
    await b.enrollAll(bSequence, leadIds);
    const aStartedAtEnrollment = await startedOf(a);

    await waitFor(async () => (await startedOf(bSequence)) === B_COUNT, "B's steps to start", 120_000);
    const [row] = await cluster.db.query<{ before: number; total: number }>(
      `select count(*) filter (where x.started_at < (select max(started_at) from sequence_executions where sequence_id = $2 and step_id = 'intro'))::int as before,
              count(*)::int as total
       from sequence_executions x where x.sequence_id = $1 and x.step_id = 'intro'`,
      [a, bSequence],
    );
    const aLeftAtEnrollment = A_BACKLOG - aStartedAtEnrollment;
    const aBetween = row!.before - aStartedAtEnrollment;
    // With the queue a quarter-lease deep (before), B's jobs sat behind up to 2,000 of A's: all
    // of what was left. Now B waits for a shallow queue and the worker's jobs in flight.
    expect(aLeftAtEnrollment).toBeGreaterThan(A_BACKLOG / 2);
    expect(aBetween, `${aBetween} of A's ${aLeftAtEnrollment} waiting steps started before B's last`).toBeLessThan(aLeftAtEnrollment / 2);

    await waitFor(
      async () => (await count(cluster.db, `select count(*)::int as n from enrollments where sequence_id = any($1) and status = 'completed'`, [[a, bSequence]])) === A_BACKLOG + B_COUNT,
      'every enrollment to complete',
      180_000,
    );
  }, 400_000);
});
