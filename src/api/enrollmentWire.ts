/** An enrollment as the API shows it: status, where it stands, what it waits for, its lead. */
import { z } from 'zod';
import { ENROLLMENT_STATUSES } from '../core/enrollmentStatus.ts';
import { renderTaskText } from '../core/content.ts';
import type { BranchStep, SequenceDefinition, Step } from '../core/definition.ts';
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
  title: z.string().nullable().describe("The lead's job title"),
  timezone: z.string().nullable(),
});

export const currentStepSchema = z.object({
  id: z.string(),
  type: z.string(),
  name: z.string().nullable(),
  title: z.string().nullable().describe("A task's title rendered for this lead, or what a branch waits for"),
  description: z.string().nullable().describe("A task's description rendered for this lead (a variable the lead lacks prints empty)"),
  outcomes: z.array(z.string()).nullable().describe('The outcomes an operator may record to move it on'),
});

export const enrollmentSchema = z
  .object({
    id,
    sequenceId: id,
    sequenceName: z.string(),
    sequenceVersion: z.number().int(),
    lead: leadSummarySchema,
    enrolledBy: z.string().nullable().describe('Who enrolled the lead (the token or the trigger that did)'),
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

type StepRow = Pick<EnrollmentListRow, 'sequenceId' | 'sequenceVersion' | 'definition' | 'currentStepId'>;

function definitionOf(row: StepRow): SequenceDefinition | undefined {
  try {
    return parseStoredDefinition(row.sequenceId, row.sequenceVersion, row.definition);
  } catch {
    return undefined; // a stored version that no longer parses must not break a list
  }
}

export function stepOf(row: StepRow): Step | undefined {
  if (!row.currentStepId) return undefined;
  return definitionOf(row)?.steps.find((s) => s.id === row.currentStepId);
}

/** What a branch waits for, in words: "an outcome: connected or meeting_booked" (the raw condition is in the definition). */
function branchTitle(step: BranchStep): string {
  const when = step.when;
  if ('outcome' in when) return `Record the outcome: ${when.outcome.join(' or ')}`;
  if ('event' in when) return `Waits for ${when.event}${'step' in when && when.step ? ` of step ${when.step}` : ''}`;
  return `Waits for ${JSON.stringify(when)}`;
}

function currentStepToWire(row: EnrollmentListRow): z.infer<typeof currentStepSchema> | null {
  if (!row.currentStepId) return null;
  const definition = definitionOf(row);
  const step = definition?.steps.find((s) => s.id === row.currentStepId);
  if (!definition || !step) return { id: row.currentStepId, type: 'unknown', name: null, title: null, description: null, outcomes: null };
  const { customFields, ...lead } = row.lead;
  const task = step.type === 'task' ? renderTaskText(step, { lead: { ...lead, customFields: customFields ?? {} }, definition }) : null;
  const title = task ? task.title : step.type === 'branch' ? branchTitle(step) : null;
  const outcomes = step.type === 'task' ? step.outcomes : step.type === 'branch' && 'outcome' in step.when ? step.when.outcome : null;
  return { id: step.id, type: step.type, name: step.name ?? null, title, description: task?.description ?? null, outcomes };
}

function leadToWire({ customFields: _fields, ...lead }: EnrollmentListRow['lead']): z.infer<typeof leadSummarySchema> {
  return lead;
}

export function enrollmentToWire(row: EnrollmentListRow): z.infer<typeof enrollmentSchema> {
  const running = row.status === 'active' || row.status === 'waiting';
  return {
    id: row.id,
    sequenceId: row.sequenceId,
    sequenceName: row.sequenceName,
    sequenceVersion: row.sequenceVersion,
    lead: leadToWire(row.lead),
    enrolledBy: row.enrolledBy ?? null,
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
