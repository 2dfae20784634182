/**
 * Pure helpers for the builder's custom events (docs/SEQUENCES.md, "Custom events"): the name
 * rule is the core's (src/core/events.ts), so the form and the server never disagree on it.
 */
import { DEFAULT_EXIT_ON, EXIT_TRIGGERS } from '../../../src/core/definition.ts';
import { CUSTOM_EVENT_MESSAGE, CUSTOM_EVENT_PREFIX, EVENT_TYPES, isCustomEventType } from '../../../src/core/events.ts';

export { CUSTOM_EVENT_PREFIX, DEFAULT_EXIT_ON, EVENT_TYPES, EXIT_TRIGGERS, isCustomEventType };

/** What is wrong with a custom event name as typed, or null when the core would take it. */
export function customEventProblem(name: string): string | null {
  return isCustomEventType(name) ? null : CUSTOM_EVENT_MESSAGE;
}

/** An event name meant as a custom one, valid or still being typed: it has the prefix. */
export function isMeantCustom(event: string): boolean {
  return event.startsWith(CUSTOM_EVENT_PREFIX);
}

/** Typing "demo_booked" means "custom.demo_booked": the prefix is added, never doubled. */
export function asCustomEvent(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith(CUSTOM_EVENT_PREFIX) ? trimmed : `${CUSTOM_EVENT_PREFIX}${trimmed}`;
}

export interface PropertyCondition {
  property: string;
  op: string;
  value?: unknown;
}
export type EventCondition = { event?: string; step?: string; where?: PropertyCondition };

/**
 * A branch's event condition after its event changes. A custom event is about the lead, so it
 * drops `step`; a catalogue event has no properties, so it drops `where` (the core rejects both).
 */
export function withEvent(condition: EventCondition, event: string): EventCondition {
  const { step, where, ...rest } = condition;
  return isMeantCustom(event) ? { ...rest, event, ...(where ? { where } : {}) } : { ...rest, event, ...(step ? { step } : {}) };
}

/** Ops that test presence take no value; the rest compare against one. */
export function opTakesValue(op: string): boolean {
  return op !== 'exists' && op !== 'missing';
}

/**
 * The value a person typed, as JSON when it reads as a number, boolean or list (so `gt 3` and
 * `in ["pro","team"]` compare as intended), else the text itself.
 */
export function parseConditionValue(text: string): unknown {
  const trimmed = text.trim();
  if (/^(-?\d+(\.\d+)?|true|false|\[.*\])$/s.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

export function formatConditionValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A property condition after one field changes, dropping a value its op does not take. */
export function withWhere(where: PropertyCondition, change: Partial<PropertyCondition>): PropertyCondition {
  const next = { ...where, ...change };
  if (!opTakesValue(next.op)) delete next.value;
  return next;
}

/** The exit rules a definition lists: its own, or the core's default when it leaves them out. */
export function exitRulesOf(definition: { exitOn?: unknown }): string[] {
  return Array.isArray(definition.exitOn) ? definition.exitOn.map(String) : [...DEFAULT_EXIT_ON];
}

/** Exit rules that are neither catalogue events nor `converted` nor valid custom events. */
export function badExitRules(rules: string[]): string[] {
  const known = new Set<string>(EXIT_TRIGGERS);
  return rules.filter((r) => !known.has(r) && !isCustomEventType(r));
}
