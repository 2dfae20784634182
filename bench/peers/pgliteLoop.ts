/**
 * Peer: the engine's own statements for one delivered step, in the same transactions, run in a
 * bare loop with no engine around them — no decisions, no templates, no adapter, no
 * dispatcher. It calls the same db functions the executor calls, so it follows their SQL as it
 * changes; what is left between it and the engine is the engine's own work. The embedded
 * ceiling for these statements.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/db.ts';
import { claimDue, lockEnrollment, type Claim } from '../../src/db/enrollments.ts';
import { completeExecution, writeIntent } from '../../src/db/executions.ts';
import { loadRunContext } from '../../src/engine/context.ts';
import { moveToStep } from '../../src/engine/transitions.ts';
import { countExecutions, STEPS_PER_ENROLLMENT, THREE_STEPS } from '../lib/fixture.ts';
import { seedDueNow, timed, type ThroughputRun } from '../workloads/throughput.ts';

const ORDER = THREE_STEPS.steps.map((s) => s.id);

export async function pgliteLoopThroughput(db: Db, leads: number, concurrency = 8): Promise<ThroughputRun> {
  await seedDueNow(db, leads);
  const { seconds, cpuSeconds } = await timed(() => loop(db, concurrency));
  const steps = await countExecutions(db);
  if (steps !== leads * STEPS_PER_ENROLLMENT) throw new Error(`bare loop: expected ${leads * STEPS_PER_ENROLLMENT} executions, found ${steps}`);
  return { steps, seconds, stepsPerSecond: steps / seconds, stepsPerCpuSecond: steps / cpuSeconds };
}

async function loop(db: Db, concurrency: number): Promise<void> {
  for (;;) {
    const now = new Date();
    const leaseId = randomUUID();
    const claims = await claimDue(db, { now, limit: 100, leaseUntil: new Date(now.getTime() + 60_000), leaseId });
    if (claims.length === 0) break;
    let next = 0;
    const lane = async () => {
      while (next < claims.length) await runClaim(db, claims[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claims.length) }, lane));
  }
}

async function runClaim(db: Db, claim: Claim): Promise<void> {
      for (let i = 0; i < STEPS_PER_ENROLLMENT; i++) {
        const context = (await loadRunContext(db, claim.enrollmentId))!;
        const { enrollment } = context;
        const stepId = enrollment.currentStepId!;
        const step = THREE_STEPS.steps[i]!;
        const stepNow = new Date();
        const identity = {
          workspaceId: enrollment.workspaceId,
          enrollmentId: enrollment.id,
          leadId: enrollment.leadId,
          sequenceId: enrollment.sequenceId,
          stepId,
          stepType: step.type,
          channel: step.type,
          visit: enrollment.stepSeq,
        };
        const intent = await db.transaction(async (tx) => {
          await lockEnrollment(tx, enrollment.id);
          return writeIntent(tx, identity, { adapter: 'mock', rendered: { text: 'Hello' }, now: stepNow });
        });
        await db.transaction((tx) =>
          completeExecution(tx, intent!.id, { status: 'succeeded', now: stepNow, providerMessageId: 'x', metadata: { mock: true } }),
        );
        const next = ORDER[i + 1] ?? null;
        const fenced = { enrollment, leaseId: claim.leaseId, now: stepNow };
        await db.transaction((tx) =>
          moveToStep(tx, fenced, { next, dueAt: stepNow, keepLeaseUntil: next ? new Date(stepNow.getTime() + 60_000) : undefined }),
        );
      }
}
