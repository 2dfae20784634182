import { replyClassesOf, type Condition, type Lead } from './definition.ts';
import type { EventType } from './events.ts';

/** Something that happened to an enrollment, as the decision functions see it. */
export interface Fact {
  type: EventType;
  at: Date;
  /** The step whose message the event is about, or the task an outcome was recorded for. */
  stepId?: string | null;
  outcome?: string | null;
  /** A custom event's properties, as the caller sent them. */
  properties?: Record<string, unknown> | null;
  /** A reply's class as it stands now (after an operator's correction); null for other events. */
  replyClass?: string | null;
}

export function isReply(fact: Pick<Fact, 'type'>): boolean {
  return fact.type === 'email.replied' || fact.type === 'sms.replied';
}

/**
 * The latest visible reply (to `stepId`'s message when given), or undefined. The latest one
 * decides a reply condition, as the latest outcome does: a lead who was out of office and then
 * wrote "interested" is interested.
 */
export function latestReply(facts: readonly Fact[], stepId?: string): Fact | undefined {
  let latest: Fact | undefined;
  for (const fact of facts) {
    if (!isReply(fact) || (stepId !== undefined && fact.stepId !== stepId)) continue;
    if (!latest || fact.at >= latest.at) latest = fact;
  }
  return latest;
}

/**
 * Evaluates a branch condition against what is known at `now`. Facts after `now` are
 * invisible, which lets the simulation replay hypothetical events in time order.
 */
export function conditionHolds(condition: Condition, facts: readonly Fact[], lead: Lead, now: Date): boolean {
  const visible = facts.filter((fact) => fact.at.getTime() <= now.getTime());
  if ('event' in condition) {
    const where = condition.where;
    return visible.some(
      (f) =>
        f.type === condition.event &&
        (!condition.step || f.stepId === condition.step) &&
        (!where || compare(pathOf(f.properties ?? {}, where.property), where.op, where.value)),
    );
  }
  if ('outcome' in condition) {
    // The latest outcome an operator recorded decides: a later "no_answer" overrides an
    // earlier "connected" for the same enrollment.
    const outcomes = visible.filter((f) => f.type === 'manual.outcome' && f.outcome);
    const latest = outcomes.reduce<Fact | undefined>((a, b) => (!a || b.at >= a.at ? b : a), undefined);
    return latest?.outcome ? condition.outcome.includes(latest.outcome) : false;
  }
  if ('reply' in condition) {
    const reply = latestReply(visible, condition.step);
    return reply?.replyClass != null && (replyClassesOf(condition) as string[]).includes(reply.replyClass);
  }
  return leadConditionHolds(condition.lead, lead);
}

function leadField(lead: Lead, field: string): unknown {
  const path = field.startsWith('lead.') ? field.slice(5) : field;
  return pathOf({ ...(lead.customFields ?? {}), ...lead }, path);
}

/** `a.b.c` inside an object; own properties only, so `__proto__` or `constructor` find nothing. */
function pathOf(base: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => {
    if (value === null || typeof value !== 'object') return undefined;
    return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  }, base);
}

function leadConditionHolds(condition: { field: string; op: string; value?: unknown }, lead: Lead): boolean {
  return compare(leadField(lead, condition.field), condition.op, condition.value);
}

function compare(actual: unknown, op: string, expected: unknown): boolean {
  const condition = { op, value: expected };
  const present = actual !== undefined && actual !== null && actual !== '';
  switch (condition.op) {
    case 'exists':
      return present;
    case 'missing':
      return !present;
    case 'eq':
      return looselyEqual(actual, condition.value);
    case 'neq':
      return !looselyEqual(actual, condition.value);
    case 'contains':
      return present && String(actual).toLowerCase().includes(String(condition.value ?? '').toLowerCase());
    case 'in':
      return Array.isArray(condition.value) && condition.value.some((v) => looselyEqual(actual, v));
    case 'gt':
      return present && Number(actual) > Number(condition.value);
    case 'lt':
      return present && Number(actual) < Number(condition.value);
    default:
      return false;
  }
}

/** CSV imports make every custom field a string; compare "42" and 42 as equal, text case-blind. */
function looselyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return false;
  return String(a).toLowerCase() === String(b).toLowerCase();
}
