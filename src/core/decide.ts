/**
 * Step decisions: given where an enrollment stands and what is known at `now`, what happens
 * next. The engine and the simulation both call `decideStep`, so a dry run cannot disagree
 * with a real one.
 */
import { conditionHolds, isReply, type Fact } from './conditions.ts';
import {
  isDeliveryStep,
  replyExitTrigger,
  type Channel,
  type DeliveryStep,
  type ExitTrigger,
  type Lead,
  type SequenceDefinition,
  type Step,
} from './definition.ts';
import { capReached, capReason, type LeadSendsToday } from './limits.ts';
import { isReplyClass } from './sentiment.ts';
import { addDuration, nextOpening } from './time.ts';

export interface StepInput {
  definition: SequenceDefinition;
  /** The step the enrollment stands on; null once it has run past the last step. */
  stepId: string | null;
  stepEnteredAt: Date;
  enrolledAt: Date;
  now: Date;
  lead: Lead;
  /** The zone windows are computed in (`resolveZone`). */
  zone: string;
  /** Events of this enrollment and its lead since it enrolled. */
  facts: readonly Fact[];
  /** Channels on which the lead's address is suppressed. */
  suppressed: ReadonlySet<Channel>;
  /** The lead's sends today and its frequency caps; absent (a dry run): no cap applies. */
  sendsToday?: LeadSendsToday;
  /**
   * When this visit of the step began to wait (the enrollment's `waiting_since`): for a task,
   * since when it is open in the operator's inbox. Absent or null: it has not waited yet.
   */
  waitingSince?: Date | null;
}

export type Decision =
  | { kind: 'exit'; reason: string; trigger: ExitTrigger }
  | { kind: 'complete' }
  /** `frequency_cap`: the lead has had its sends on this channel today; tomorrow's first opening. */
  | { kind: 'defer'; until: Date; reason?: 'frequency_cap'; detail?: string }
  | { kind: 'deliver'; step: DeliveryStep; next: string | null }
  | { kind: 'skip'; step: DeliveryStep; reason: 'suppressed' | 'missing_address'; next: string | null }
  | { kind: 'wait'; until: Date }
  | { kind: 'advance'; next: string | null; detail: Record<string, unknown> }
  | { kind: 'await'; waitingFor: 'branch' | 'task'; until: Date | null };

const EXIT_REASONS: Partial<Record<ExitTrigger, string>> = {
  'email.replied': 'replied',
  'sms.replied': 'replied',
  'email.bounced': 'bounced',
  'email.unsubscribed': 'unsubscribed',
  'email.spam_reported': 'spam_reported',
  'sms.opted_out': 'opted_out',
  converted: 'converted',
  'meeting.booked': 'meeting_booked',
};

export function exitReason(trigger: ExitTrigger): string {
  return EXIT_REASONS[trigger] ?? trigger;
}

export function findStep(definition: SequenceDefinition, stepId: string): Step {
  const step = definition.steps.find((s) => s.id === stepId);
  if (!step) throw new Error(`Step "${stepId}" is not in the sequence definition.`);
  return step;
}

/** Where the enrollment goes after `stepId` in array order (or its `next`); null = the end. */
export function nextStepId(definition: SequenceDefinition, stepId: string): string | null {
  const index = definition.steps.findIndex((s) => s.id === stepId);
  const step = definition.steps[index];
  if (!step) return null;
  if (step.type === 'end') return null;
  return step.next ?? definition.steps[index + 1]?.id ?? null;
}

/**
 * The exit triggers a fact fires: its type, and for a classified reply `reply.<class>` before it
 * (the class as it stands now, so an operator's correction counts).
 */
export function triggersOf(fact: Pick<Fact, 'type' | 'replyClass'>): ExitTrigger[] {
  // The class first: when exitOn lists both, the reason says which kind of reply it was.
  if (isReply(fact) && fact.replyClass && isReplyClass(fact.replyClass)) return [replyExitTrigger(fact.replyClass), fact.type];
  return [fact.type];
}

/** The first exit trigger among the facts, if any: replies, bounces and opt-outs end sequences. */
export function findExitTrigger(definition: SequenceDefinition, facts: readonly Fact[], enrolledAt: Date, now: Date): ExitTrigger | undefined {
  const triggers = new Set<string>(definition.exitOn);
  for (const fact of facts) {
    if (fact.at < enrolledAt || fact.at > now) continue;
    const fired = triggersOf(fact).find((t) => triggers.has(t));
    if (fired) return fired;
  }
  return undefined;
}

export function hasAddress(lead: Lead, channel: Channel): boolean {
  return Boolean(channel === 'email' ? lead.email : lead.phone);
}

export function decideStep(input: StepInput): Decision {
  const { definition, now } = input;
  const trigger = findExitTrigger(definition, input.facts, input.enrolledAt, now);
  if (trigger) return { kind: 'exit', reason: exitReason(trigger), trigger };
  if (input.stepId === null) return { kind: 'complete' };
  const step = findStep(definition, input.stepId);
  const next = nextStepId(definition, step.id);
  const window = { zone: input.zone, schedule: definition.schedule, quietHours: definition.quietHours };

  if (isDeliveryStep(step)) {
    if (!hasAddress(input.lead, step.type)) return { kind: 'skip', step, reason: 'missing_address', next };
    if (input.suppressed.has(step.type)) return { kind: 'skip', step, reason: 'suppressed', next };
    const opening = nextOpening(now, { ...window, channel: step.type });
    if (opening.getTime() > now.getTime()) return { kind: 'defer', until: opening };
    // Checked with the window, right before the send: never dropped, moved to the next day.
    const dayEnd = capReached(input.sendsToday, step.type, now);
    if (dayEnd) {
      const until = nextOpening(dayEnd, { ...window, channel: step.type });
      return { kind: 'defer', until, reason: 'frequency_cap', detail: capReason(step.type, input.sendsToday!, until) };
    }
    return { kind: 'deliver', step, next };
  }

  switch (step.type) {
    case 'wait': {
      const until = addDuration(input.stepEnteredAt, step.duration, {
        zone: input.zone,
        businessDays: step.businessDays,
        schedule: definition.schedule,
      });
      if (now.getTime() < until.getTime()) return { kind: 'wait', until };
      return { kind: 'advance', next, detail: { waitedUntil: until.toISOString() } };
    }
    case 'branch': {
      const since = input.facts.filter((f) => f.at >= input.enrolledAt);
      if (conditionHolds(step.when, since, input.lead, now)) {
        return { kind: 'advance', next: step.then, detail: { branch: 'then', condition: step.when } };
      }
      const deadline = addDuration(input.stepEnteredAt, step.within, { zone: input.zone });
      if (now.getTime() >= deadline.getTime()) {
        return { kind: 'advance', next: step.else, detail: { branch: 'else', condition: step.when } };
      }
      return { kind: 'await', waitingFor: 'branch', until: deadline };
    }
    case 'task': {
      const outcome = input.facts.find(
        // An outcome names its task; one recorded without a step counts for the task now open.
        (f) => f.type === 'manual.outcome' && (f.stepId ?? step.id) === step.id && f.at >= input.stepEnteredAt && f.at <= now,
      )?.outcome;
      if (outcome) return { kind: 'advance', next: step.routes?.[outcome] ?? next, detail: { outcome } };
      // A task already open stays open when something wakes it outside the window: only its
      // creation waits for the window. Deferring it would take it out of the inbox overnight
      // and create it a second time in the morning (task.created, docs/INTEGRATIONS.md).
      if (!input.waitingSince) {
        const opening = nextOpening(now, { ...window, channel: 'task' });
        if (opening.getTime() > now.getTime()) return { kind: 'defer', until: opening };
      }
      return { kind: 'await', waitingFor: 'task', until: null };
    }
    case 'end':
      return { kind: 'complete' };
    default: {
      const unreachable: never = step;
      throw new Error(`Unknown step ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * When a step the enrollment has just entered should first run: delivery steps and task
 * creation wait for their window (and quiet hours); everything else runs at once.
 */
export function firstDueAt(definition: SequenceDefinition, stepId: string | null, now: Date, zone: string): Date {
  if (stepId === null) return now;
  const step = findStep(definition, stepId);
  if (!isDeliveryStep(step) && step.type !== 'task') return now;
  return nextOpening(now, {
    zone,
    schedule: definition.schedule,
    quietHours: definition.quietHours,
    channel: step.type === 'task' ? 'task' : step.type,
  });
}
