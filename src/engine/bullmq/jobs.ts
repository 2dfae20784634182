/**
 * The job catalog (STYLE habit 4): every BullMQ job Touchpoint enqueues, declared once with its
 * name, zod payload and options. The queue only carries "run this step now"; the database is
 * the source of truth, so a lost job costs a lease period and a duplicated one is a no-op.
 */
import { z } from 'zod';

export const QUEUE_NAME = 'touchpoint-steps';

export const executeNodePayload = z.object({
  enrollmentId: z.uuid(),
  /** The lease the dispatcher took with claimDue; the worker swaps it for its own on start. */
  leaseId: z.uuid(),
  /** When the step came due: the worker reports due → start as scheduler lag. */
  dueAt: z.iso.datetime(),
});
export type ExecuteNodePayload = z.infer<typeof executeNodePayload>;

export const jobs = {
  executeNode: {
    name: 'sequence.execute_node',
    payload: executeNodePayload,
    /**
     * One attempt: a failed run is retried by its lease running out (the enrollment comes due
     * again and is dispatched under a new lease), exactly as in the inline engine.
     */
    options: {
      attempts: 1,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    },
    /** BullMQ ids may not contain ':'; one claim (enrollment + lease) is one job. */
    jobId: (p: ExecuteNodePayload) => `${p.enrollmentId}_${p.leaseId}`,
  },
} as const;

/** Redis key prefix shared by the queue, the rate limiter and the wake channel. */
export function keyPrefix(prefix: string): { queue: string; rateLimit: string; wakeChannel: string } {
  return { queue: prefix, rateLimit: `${prefix}:rl`, wakeChannel: `${prefix}:wake` };
}
