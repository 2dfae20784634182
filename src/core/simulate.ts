/**
 * The dry run behind `touchpoint simulate` and `POST /api/sequences/{id}/preview`: it walks a
 * sequence for one lead through virtual time with hypothetical events, calling the same
 * `decideStep` the engine calls. No database, no sends.
 */
import { DateTime } from 'luxon';
import type { Fact } from './conditions.ts';
import { decideStep, findStep, triggersOf } from './decide.ts';
import type { Condition, Lead, SequenceDefinition, StepType } from './definition.ts';
import { renderStepContent } from './content.ts';
import type { EventType } from './events.ts';
import { repliesInThread, replySubject } from './threads.ts';
import { resolveZone } from './time.ts';
import { applyVariant, assignVariant, describeSplit, variantsOf } from './variants.ts';
import { latestReply } from './conditions.ts';
import { classifyByRules, type ReplyClass } from './sentiment.ts';

export interface HypotheticalEvent {
  type: EventType;
  at: Date;
  step?: string;
  outcome?: string;
  /** A reply's words: classified by the rules, as the engine classifies a reply that lands. */
  text?: string;
  /** A reply's class as given (overrides `text`): what an AI or an operator would have said. */
  replyClass?: ReplyClass;
}

/** A hypothetical reply's class: the one given, else the rules' class of its text. */
function replyClassOfEvent(event: HypotheticalEvent): ReplyClass | null {
  if (event.type !== 'email.replied' && event.type !== 'sms.replied') return null;
  return event.replyClass ?? classifyByRules(event.text ?? '').class;
}

export type SimulationAction = 'send' | 'wait' | 'branch' | 'task' | 'end' | 'skip' | 'exit';

export interface SimulationEntry {
  at: string;
  stepId: string | null;
  type: StepType | null;
  action: SimulationAction;
  detail: string;
  /** A send of a step with A/B variants: the variant shown (docs/SEQUENCES.md, "A/B variants"). */
  variant?: string;
}

export interface SimulationInput {
  definition: SequenceDefinition;
  lead: Lead;
  start: Date;
  events?: HypotheticalEvent[];
  workspaceZone?: string;
  /** Stops a sequence that loops forever (a loop through a wait is legal). */
  maxDecisions?: number;
  /**
   * The enrollment's id, when the lead is enrolled: it seeds the A/B assignment, so the dry run
   * names the variant the engine gives. Without it the run says how the weights split.
   */
  enrollmentId?: string;
  /** Decided automatic winners by step id: new assignments get them. */
  winners?: Record<string, string>;
}

export function simulate(input: SimulationInput): SimulationEntry[] {
  const { definition, lead } = input;
  const zone = resolveZone(lead.timezone, definition.schedule, input.workspaceZone);
  const facts: Fact[] = (input.events ?? [])
    .map((e) => ({ type: e.type, at: e.at, stepId: e.step ?? null, outcome: e.outcome ?? null, replyClass: replyClassOfEvent(e) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  const exitTypes = new Set<string>(definition.exitOn);
  const entries: SimulationEntry[] = [];
  const local = (at: Date) => DateTime.fromJSDate(at, { zone }).toFormat("ccc yyyy-LL-dd HH:mm ZZZZ");

  let now = input.start;
  let stepId: string | null = definition.steps[0]?.id ?? null;
  let enteredAt = now;
  let announced = false; // the current step's "waiting" entry is written once
  let threadSubject: string | undefined; // the subject of the last email sent, which a reply answers
  const push = (action: SimulationAction, detail: string) => {
    const type = stepId ? findStep(definition, stepId).type : null;
    entries.push({ at: now.toISOString(), stepId, type, action, detail });
  };
  const enter = (next: string | null) => {
    stepId = next;
    enteredAt = now;
    announced = false;
  };
  // Moving the clock forward stops early at an exit event, which ends the sequence there.
  const advanceTo = (target: Date) => {
    const exit = facts.find((f) => f.at > now && f.at <= target && triggersOf(f).some((t) => exitTypes.has(t)));
    now = exit ? exit.at : target;
  };

  for (let decisions = 0; decisions < (input.maxDecisions ?? 1000); decisions++) {
    const decision = decideStep({
      definition,
      stepId,
      stepEnteredAt: enteredAt,
      enrolledAt: input.start,
      now,
      lead,
      zone,
      facts,
      suppressed: new Set(),
    });
    switch (decision.kind) {
      case 'exit':
        push('exit', `exited: ${decision.reason} (${decision.trigger})`);
        return entries;
      case 'complete':
        push('end', 'sequence completed');
        return entries;
      case 'defer':
        push('wait', `outside the sending window; moves to ${local(decision.until)}`);
        advanceTo(decision.until);
        break;
      case 'deliver': {
        const variant = variantOfSend(decision.step, input);
        let detail: string;
        try {
          const chosen = applyVariant(decision.step, variant?.id);
          const content = renderStepContent(chosen, { lead, definition });
          let subject = content.subject;
          if (repliesInThread(chosen)) {
            // The engine answers the enrollment's previous email; the dry run remembers its subject.
            if (threadSubject === undefined) throw new Error('it has no subject, so it replies in the thread of the previous email, but no email was sent before it');
            subject = replySubject(threadSubject);
          }
          if (decision.step.type === 'email') threadSubject = subject;
          detail = `${decision.step.type} at ${local(now)}${variant ? ` (${variant.note})` : ''}: ${subject ?? content.text}`;
        } catch (error) {
          detail = `${decision.step.type} would fail: ${(error as Error).message}`;
        }
        push('send', detail);
        if (variant) entries[entries.length - 1]!.variant = variant.id;
        enter(decision.next);
        break;
      }
      case 'skip':
        push('skip', `${decision.step.type} skipped: ${decision.reason.replace('_', ' ')}`);
        enter(decision.next);
        break;
      case 'wait':
        if (!announced) push('wait', `waits until ${local(decision.until)}`);
        announced = true;
        advanceTo(decision.until);
        break;
      case 'advance': {
        const step = stepId ? findStep(definition, stepId) : undefined;
        if (step?.type === 'branch') push('branch', `${decision.detail.branch} → ${decision.next ?? 'end'}${replyNote(step.when, facts, now)}`);
        else if (step?.type === 'task') push('task', `outcome "${String(decision.detail.outcome)}" → ${decision.next ?? 'end'}`);
        else if (step?.type === 'wait' && !announced) push('wait', 'no wait');
        enter(decision.next);
        break;
      }
      case 'await': {
        const step = stepId ? findStep(definition, stepId) : undefined;
        if (!announced && step?.type === 'task') push('task', `task "${step.title}" waits for an operator outcome`);
        if (!announced && step?.type === 'branch') {
          push('branch', `waits for the condition until ${decision.until ? local(decision.until) : 'forever'}`);
        }
        announced = true;
        const nextFact = facts.find((f) => f.at > now);
        const wake = [nextFact?.at, decision.until ?? undefined]
          .filter((d): d is Date => d !== undefined)
          .sort((a, b) => a.getTime() - b.getTime())[0];
        if (!wake) return entries; // a task nobody answers: the run stops here, as a real one would
        advanceTo(wake);
        break;
      }
      default: {
        const unreachable: never = decision;
        throw new Error(`Unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }
  push('end', `simulation stopped after ${input.maxDecisions ?? 1000} decisions (the sequence loops)`);
  return entries;
}

/** A reply condition's branch entry names the class that decided ("latest reply: not_now"). */
function replyNote(condition: Condition, facts: readonly Fact[], now: Date): string {
  if (!('reply' in condition)) return '';
  const reply = latestReply(facts.filter((f) => f.at <= now), condition.step);
  return reply ? ` (latest reply: ${reply.replyClass})` : ' (no reply)';
}

/**
 * The variant a dry run shows for a step with variants: the engine's own pick when the
 * enrollment is known, else the decided winner, else the first variant, saying how the weights
 * split (the real pick is seeded by the enrollment's id, which does not exist yet).
 */
function variantOfSend(step: Parameters<typeof variantsOf>[0], input: SimulationInput): { id: string; note: string } | undefined {
  const variants = variantsOf(step);
  if (!variants || variants.length === 0) return undefined;
  const winner = input.winners?.[step.id];
  if (input.enrollmentId) {
    const assignment = assignVariant(step, input.enrollmentId, { winner })!;
    return { id: assignment.variantId, note: `variant ${assignment.variantId}${assignment.by === 'winner' ? ', the decided winner' : ' of this enrollment'}` };
  }
  if (winner && variants.some((v) => v.id === winner)) return { id: winner, note: `variant ${winner}, the decided winner` };
  const first = variants[0]!;
  return { id: first.id, note: `variant picked at enrollment by weight: ${describeSplit(variants)}; showing ${first.id}` };
}
