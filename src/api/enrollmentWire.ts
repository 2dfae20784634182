/** An enrollment as the API shows it: status, where it stands, what it waits for, its lead. */
import { z } from 'zod';
import { ENROLLMENT_STATUSES } from '../core/enrollmentStatus.ts';
import type { Step } from '../core/definition.ts';
import { parseStoredDefinition } from '../core/storedDefinitions.ts';
import type { EnrollmentListRow } from '../db/enrollmentLists.ts';
import type { ExecutionRecord } from '../db/executions.ts';
import { id, iso, isoTime } from './wire.ts';

export const leadSummarySchema = z.object({
  id,
  email: z.string().nullable(),
  phone: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  company: z.string().nullable(),
});

export const currentStepSchema = z.object({
  id: z.string(),
  type: z.string(),
  name: z.string().nullable(),
  /** A task's title, or what a branch waits for. */
  title: z.string().nullable(),
  outcomes: z.array(z.string()).nullable().describe('The outcomes an operator may record to move it on'),
});

export const enrollmentSchema = z
  .object({
    id,
    sequenceId: id,
    sequenceName: z.string(),
    sequenceVersion: z.number().int(),
    lead: leadSummarySchema,
    status: z.enum(ENROLLMENT_STATUSES),
    statusReason: z.string().nullable(),
    waitingFor: z.enum(['task', 'branch']).nullable(),
    currentStep: currentStepSchema.nullable(),
    nextRunAt: isoTime.nullable().describe('When the engine next looks at it; null when paused or finished'),
    enrolledAt: isoTime,
    updatedAt: isoTime,
    finishedAt: isoTime.nullable(),
  })
  .meta({ id: 'Enrollment' });

export const executionSchema = z
  .object({
    id,
    stepId: z.string(),
    stepType: z.string(),
    channel: z.string().nullable(),
    visit: z.number().int(),
    status: z.string(),
    attempts: z.number().int(),
    adapter: z.string().nullable(),
    providerMessageId: z.string().nullable(),
    error: z.object({ code: z.string().nullable(), message: z.string().nullable() }).nullable(),
    rendered: z.record(z.string(), z.unknown()).nullable().describe('What was sent: subject, text'),
    variant: z.string().nullable().describe('The A/B variant the step sent; null for a step without variants'),
    startedAt: isoTime,
    completedAt: isoTime.nullable(),
  })
  .meta({ id: 'Execution' });

export function stepOf(row: Pick<EnrollmentListRow, 'sequenceId' | 'sequenceVersion' | 'definition' | 'currentStepId'>): Step | undefined {
  if (!row.currentStepId) return undefined;
  try {
    const definition = parseStoredDefinition(row.sequenceId, row.sequenceVersion, row.definition);
    return definition.steps.find((s) => s.id === row.currentStepId);
  } catch {
    return undefined; // a stored version that no longer parses must not break a list
  }
}

function currentStepToWire(row: EnrollmentListRow): z.infer<typeof currentStepSchema> | null {
  if (!row.currentStepId) return null;
  const step = stepOf(row);
  if (!step) return { id: row.currentStepId, type: 'unknown', name: null, title: null, outcomes: null };
  const title =
    step.type === 'task' ? step.title : step.type === 'branch' ? `waits for ${JSON.stringify(step.when)} within ${step.within}` : null;
  const outcomes = step.type === 'task' ? step.outcomes : step.type === 'branch' && 'outcome' in step.when ? step.when.outcome : null;
  return { id: step.id, type: step.type, name: step.name ?? null, title, outcomes };
}

export function enrollmentToWire(row: EnrollmentListRow): z.infer<typeof enrollmentSchema> {
  const running = row.status === 'active' || row.status === 'waiting';
  return {
    id: row.id,
    sequenceId: row.sequenceId,
    sequenceName: row.sequenceName,
    sequenceVersion: row.sequenceVersion,
    lead: row.lead,
    status: row.status,
    statusReason: row.statusReason,
    waitingFor: row.waitingFor,
    currentStep: currentStepToWire(row),
    nextRunAt: running ? iso(row.nextExecutionAt) : null,
    enrolledAt: iso(row.enrolledAt)!,
    updatedAt: iso(row.updatedAt)!,
    finishedAt: iso(row.finishedAt),
  };
}

export function executionToWire(e: ExecutionRecord): z.infer<typeof executionSchema> {
  return {
    id: e.id,
    stepId: e.stepId,
    stepType: e.stepType,
    channel: e.channel,
    visit: e.visit,
    status: e.status,
    attempts: e.attempts,
    adapter: e.adapter,
    providerMessageId: e.providerMessageId,
    error: e.errorCode || e.errorMessage ? { code: e.errorCode, message: e.errorMessage } : null,
    rendered: e.rendered,
    variant: e.variant ?? null,
    startedAt: iso(e.startedAt)!,
    completedAt: iso(e.completedAt),
  };
}
