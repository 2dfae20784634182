/**
 * Peer: the engine's own statements for a batch of delivered steps, in the same transactions,
 * run in a bare loop with no engine around them — no decisions, no templates, no zone
 * arithmetic, no adapter. Per claimed batch and step: read the contexts, write the intents,
 * record the outcomes with the moves. It calls the same db functions the executor calls, so it
 * follows their SQL as it changes; what is left between it and the engine is the engine's own
 * work. The embedded ceiling for these statements.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/db.ts';
import { claimDue } from '../../src/db/enrollments.ts';
import { writeIntents, type IntentRequest } from '../../src/db/executions.ts';
import { loadRunContexts } from '../../src/engine/context.ts';
import { applyStepEnds, type StepEnd } from '../../src/db/stepEnds.ts';
import { countExecutions, STEPS_PER_ENROLLMENT, THREE_STEPS } from '../lib/fixture.ts';
import { seedDueNow, timed, type ThroughputRun } from '../workloads/throughput.ts';

const ORDER = THREE_STEPS.steps.map((s) => s.id);
const LEASE_MS = 60_000;

export async function pgliteLoopThroughput(db: Db, leads: number, batchSize = 100): Promise<ThroughputRun> {
  await seedDueNow(db, leads);
  const { seconds, cpuSeconds } = await timed(() => loop(db, batchSize));
  const steps = await countExecutions(db);
  if (steps !== leads * STEPS_PER_ENROLLMENT) throw new Error(`bare loop: expected ${leads * STEPS_PER_ENROLLMENT} executions, found ${steps}`);
  return { steps, seconds, stepsPerSecond: steps / seconds, stepsPerCpuSecond: steps / cpuSeconds };
}

async function loop(db: Db, batchSize: number): Promise<void> {
  for (;;) {
    const now = new Date();
    const leaseId = randomUUID();
    const claims = await claimDue(db, { now, limit: batchSize, leaseUntil: new Date(now.getTime() + LEASE_MS), leaseId });
    if (claims.length === 0) return;
    const ids = claims.map((c) => c.enrollmentId);
    for (let i = 0; i < STEPS_PER_ENROLLMENT; i++) await step(db, ids, leaseId, i);
  }
}

async function step(db: Db, ids: string[], leaseId: string, index: number): Promise<void> {
  const contexts = [...(await loadRunContexts(db, ids)).contexts.values()];
  const stepNow = new Date();
  const step = THREE_STEPS.steps[index]!;
  const requests: IntentRequest[] = contexts.map(({ enrollment, lead }) => ({
    identity: {
      workspaceId: enrollment.workspaceId,
      enrollmentId: enrollment.id,
      leadId: enrollment.leadId,
      sequenceId: enrollment.sequenceId,
      stepId: enrollment.currentStepId!,
      stepType: step.type,
      channel: step.type,
      visit: enrollment.stepSeq,
    },
    leaseId,
    adapter: 'mock',
    // The address the engine sends to: the intent re-checks it against the suppressions.
    recipient: (step.type === 'email' ? lead.email : lead.phone) ?? null,
    rendered: { text: 'Hello' },
    now: stepNow,
  }));
  const intents = await writeIntents(db, requests);
  const next = ORDER[index + 1] ?? null;
  const ends: StepEnd[] = contexts.map(({ enrollment }) => ({
    enrollmentId: enrollment.id,
    leaseId,
    now: stepNow,
    execution: { kind: 'complete', id: intents.get(enrollment.id)!.id, status: 'succeeded', providerMessageId: 'x', metadata: { mock: true } },
    transition: next
      ? { kind: 'move', next, dueAt: stepNow, keepLeaseUntil: new Date(stepNow.getTime() + LEASE_MS) }
      : { kind: 'finish', status: 'completed', action: 'complete' },
  }));
  await applyStepEnds(db, ends);
}
