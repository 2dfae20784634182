/** The dashboard's custom-event helpers: the builder's branch and settings, the timeline's event text. */
import { describe, expect, it } from 'vitest';
import { sequenceDefinitionSchema } from '../../src/core/definition.ts';
import { eventDetailLines, eventFamily, eventHeadline } from '../../web/src/lead/eventText.ts';
import {
  asCustomEvent,
  badExitRules,
  customEventProblem,
  exitRulesOf,
  formatConditionValue,
  parseConditionValue,
  withEvent,
  withWhere,
} from '../../web/src/sequences/customEvents.ts';

describe('custom events in the builder', () => {
  it('checks a name by the core rule and adds the prefix once', () => {
    expect(customEventProblem('custom.demo_booked')).toBeNull();
    expect(customEventProblem('custom.')).toMatch(/must be "custom\."/);
    expect(customEventProblem('custom.has space')).not.toBeNull();
    expect(asCustomEvent('demo_booked')).toBe('custom.demo_booked');
    expect(asCustomEvent(' custom.demo_booked ')).toBe('custom.demo_booked');
    expect(asCustomEvent('')).toBe('custom.');
  });

  it('keeps step for catalogue events and where for custom ones, as the core demands', () => {
    const where = { property: 'plan', op: 'eq', value: 'pro' };
    expect(withEvent({ event: 'email.opened', step: 'intro' }, 'custom.demo')).toEqual({ event: 'custom.demo' });
    expect(withEvent({ event: 'custom.demo', where }, 'custom.trial')).toEqual({ event: 'custom.trial', where });
    expect(withEvent({ event: 'custom.demo', where }, 'email.clicked')).toEqual({ event: 'email.clicked' });
    expect(withEvent({ event: 'email.opened', step: 'intro' }, 'email.clicked')).toEqual({ event: 'email.clicked', step: 'intro' });
  });

  it('reads typed values as JSON where they look like it and drops a value exists does not take', () => {
    expect(parseConditionValue('3')).toBe(3);
    expect(parseConditionValue('true')).toBe(true);
    expect(parseConditionValue('["pro","team"]')).toEqual(['pro', 'team']);
    expect(parseConditionValue('[broken')).toBe('[broken');
    expect(parseConditionValue('pro')).toBe('pro');
    expect(formatConditionValue(['pro'])).toBe('["pro"]');
    expect(formatConditionValue(undefined)).toBe('');
    expect(withWhere({ property: 'plan', op: 'eq', value: 'pro' }, { op: 'exists' })).toEqual({ property: 'plan', op: 'exists' });
  });

  it('lists the default exit rules when none are set and flags the ones the core would refuse', () => {
    expect(exitRulesOf({})).toContain('email.replied');
    expect(exitRulesOf({ exitOn: ['custom.churned'] })).toEqual(['custom.churned']);
    expect(badExitRules(['converted', 'meeting.booked', 'custom.churned', 'custom.', 'email.repled'])).toEqual(['custom.', 'email.repled']);
  });

  it('builds what the core accepts', () => {
    const when = withEvent({ event: 'email.opened', step: 'intro' }, 'custom.demo_booked');
    const definition = {
      name: 'Trial',
      exitOn: ['custom.churned', 'converted'],
      trigger: { event: asCustomEvent('trial_started'), reentry: true },
      steps: [
        { id: 'intro', type: 'email', subject: 'Hi', body: 'Hi' },
        { id: 'b', type: 'branch', when: { ...when, where: withWhere({ property: 'plan', op: 'eq' }, { value: parseConditionValue('pro') }) }, within: 'P1D', then: 'done', else: 'done' },
        { id: 'done', type: 'end' },
      ],
    };
    expect(sequenceDefinitionSchema.safeParse(definition).success).toBe(true);
  });
});

describe('events on the timeline', () => {
  const time = (iso: string) => iso.slice(11, 16);

  it('reads a custom event as its name and properties', () => {
    expect(eventFamily('custom.demo_booked')).toBe('custom');
    expect(eventHeadline('custom.demo_booked', {})).toBe('Custom event demo_booked');
    expect(eventDetailLines('custom.demo_booked', { properties: { plan: 'pro', seats: 5, tags: ['a'] }, actor: 'x' }, time)).toEqual([
      'plan: pro',
      'seats: 5',
      'tags: ["a"]',
    ]);
    expect(eventDetailLines('custom.x', { properties: { long: 'y'.repeat(500) } }, time)[0]!.length).toBeLessThan(220);
  });

  it('reads a meeting as its title, time, invitee and reason', () => {
    const booked = { source: 'calcom', title: 'Intro call', startTime: '2026-03-04T15:00:00.000Z', endTime: '2026-03-04T15:30:00.000Z', attendeeName: 'Ana' };
    expect(eventFamily('meeting.booked')).toBe('meeting');
    expect(eventHeadline('meeting.booked', booked)).toBe('Meeting booked: Intro call');
    expect(eventHeadline('meeting.booked', { ...booked, rescheduled: true })).toBe('Meeting rescheduled: Intro call');
    expect(eventDetailLines('meeting.booked', booked, time)).toEqual(['When: 15:00 – 15:30', 'Invitee: Ana', 'From Cal.com']);
    expect(eventHeadline('meeting.cancelled', {})).toBe('Meeting cancelled');
    expect(eventDetailLines('meeting.cancelled', { source: 'calendly', cancellationReason: 'Busy', canceledBy: 'invitee' }, time)).toEqual([
      'Reason: Busy',
      'Cancelled by: invitee',
      'From Calendly',
    ]);
  });

  it("reads an operator's recorded outcome as the outcome, the note and who recorded it", () => {
    const details = { outcome: 'meeting_booked', note: 'Demo on Tuesday', actor: 'Ana (tp_ab…)' };
    expect(eventFamily('manual.outcome')).toBe('outcome');
    expect(eventHeadline('manual.outcome', details)).toBe('Outcome recorded: meeting booked');
    expect(eventDetailLines('manual.outcome', details, time)).toEqual(['Note: Demo on Tuesday', 'Recorded by Ana (tp_ab…)']);
    expect(eventDetailLines('manual.outcome', { outcome: 'done', note: null, actor: 'Bo' }, time)).toEqual(['Recorded by Bo']);
  });

  it('leaves catalogue events to their summary', () => {
    expect(eventFamily('email.opened')).toBeNull();
    expect(eventHeadline('email.opened', {})).toBeNull();
    expect(eventDetailLines('email.opened', { properties: { a: 1 } }, time)).toEqual([]);
  });
});
