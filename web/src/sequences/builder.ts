/**
 * The builder's edits, pure: inserting a step after the selected one and re-wiring the links
 * around it, a new branch's defaults taken from where it sits, the starting templates, and the
 * undo/redo history of the draft.
 */
import type { SequenceDefinition, Step } from '../api/types.ts';
import { EMPTY_DEFINITION, newStep } from './model.ts';

const ANYTIME_WEEKDAYS = { timezone: 'lead', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' } as const;

/**
 * Where a step inserted after `afterId` goes and what it links to. It sits right after it in
 * the list and takes over its way on: a step with an explicit `next` hands it over, a branch
 * hands over its `then` way, and an `end` (or no selection) puts the new step before the final
 * `end` so it is reachable at once. A new branch waits for something sensible about the step
 * before it (its email opened, its call connected) and goes on (`then`) to the step that
 * followed, else to the end.
 */
export function insertStepAfter(definition: SequenceDefinition, afterId: string | null, type: Step['type']): { definition: SequenceDefinition; id: string } {
  const steps = Array.isArray(definition.steps) ? definition.steps.slice() : [];
  let index = afterId ? steps.findIndex((s) => s.id === afterId) : -1;
  const lastIsEnd = steps[steps.length - 1]?.type === 'end';
  if (index < 0 || steps[index]?.type === 'end') index = lastIsEnd ? steps.length - 2 : steps.length - 1;
  const before = index >= 0 ? steps[index] : undefined;
  const created = newStep(type, steps);
  // Where the way went on from `before` until now: the new step continues there.
  let onward: string | undefined;
  if (before) {
    if (before.type === 'branch' && typeof before.then === 'string') {
      onward = before.then;
      steps[index] = { ...before, then: created.id };
    } else if (typeof before.next === 'string') {
      onward = before.next;
      steps[index] = { ...before, next: created.id };
    } else {
      onward = steps[index + 1]?.id;
    }
  } else {
    onward = steps[0]?.id;
  }
  const fallThrough = steps[index + 1]?.id;
  const end = steps.find((s) => s.type === 'end')?.id;
  let step: Step = created;
  if (type === 'branch') {
    const when = before?.type === 'email' ? { event: 'email.opened', step: before.id } : before?.type === 'voice' ? { outcome: ['connected'] } : before?.type === 'sms' ? { event: 'sms.replied' } : { event: 'email.opened' };
    step = { ...created, when, then: onward ?? end ?? created.id, else: end ?? onward ?? created.id };
  } else if (type !== 'end' && onward !== undefined && onward !== fallThrough) {
    step = { ...created, next: onward };
  }
  steps.splice(index + 1, 0, step);
  return { definition: { ...definition, steps }, id: step.id };
}

/** Sequences to start from; each is valid as it stands (test/web/builder.test.ts checks with the core). */
export const TEMPLATES: ReadonlyArray<{ key: string; label: string; definition: SequenceDefinition }> = [
  { key: 'blank', label: 'Email, wait, call task', definition: EMPTY_DEFINITION },
  {
    key: 'three-touch-email',
    label: '3-touch email',
    definition: {
      name: '3-touch email',
      schedule: { ...ANYTIME_WEEKDAYS, days: [...ANYTIME_WEEKDAYS.days] },
      exitOn: ['email.replied', 'email.bounced', 'email.unsubscribed', 'converted'],
      steps: [
        { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName | default: "there" }}', body: 'Hi {{ lead.firstName | default: "there" }},\n\nI noticed {{ lead.company | default: "your team" }} …\n\nWorth a 15-minute call this week?' },
        { id: 'wait-1', type: 'wait', duration: 'P3D', businessDays: true },
        { id: 'bump', type: 'email', subject: 'Re: Quick question, {{ lead.firstName | default: "there" }}', body: 'Hi {{ lead.firstName | default: "there" }}, bumping this up in case it got buried.' },
        { id: 'wait-2', type: 'wait', duration: 'P4D', businessDays: true },
        { id: 'breakup', type: 'email', subject: 'Should I close your file?', body: 'Hi {{ lead.firstName | default: "there" }}, I have not heard back, so I will stop here. Reply any time if the timing changes.' },
        { id: 'done', type: 'end' },
      ],
    },
  },
  {
    key: 'email-call-sms',
    label: 'Email + call + SMS',
    definition: {
      name: 'Email + call + SMS',
      schedule: { ...ANYTIME_WEEKDAYS, days: [...ANYTIME_WEEKDAYS.days] },
      steps: [
        { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName | default: "there" }}', body: 'Hi {{ lead.firstName | default: "there" }},\n\nWorth a 15-minute call this week?' },
        { id: 'wait-1', type: 'wait', duration: 'P2D', businessDays: true },
        { id: 'call', type: 'task', title: 'Call {{ lead.firstName | default: "the lead" }}', description: 'Ask about {{ lead.company | default: "their team" }}; log what happened.', outcomes: ['connected', 'no_answer', 'meeting_booked'] },
        { id: 'connected', type: 'branch', when: { outcome: ['connected', 'meeting_booked'] }, within: 'P1D', then: 'done', else: 'text' },
        { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName | default: "there" }}, I tried to call. Is there a good time to talk this week?' },
        { id: 'done', type: 'end' },
      ],
    },
  },
];

/** The draft's past and future for undo and redo, bounded. */
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

export const HISTORY_LIMIT = 100;

export function startHistory<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

export function record<T>(history: History<T>, next: T): History<T> {
  if (Object.is(next, history.present)) return history;
  return { past: [...history.past, history.present].slice(-HISTORY_LIMIT), present: next, future: [] };
}

export function undo<T>(history: History<T>): History<T> {
  const previous = history.past[history.past.length - 1];
  if (previous === undefined) return history;
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future] };
}

export function redo<T>(history: History<T>): History<T> {
  const [next, ...rest] = history.future;
  if (next === undefined) return history;
  return { past: [...history.past, history.present], present: next, future: rest };
}
