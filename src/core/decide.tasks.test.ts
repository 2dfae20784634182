import { describe, expect, it } from 'vitest';
import { decideStep, type StepInput } from './decide.ts';
import { sequenceDefinitionSchema } from './definition.ts';

const definition = sequenceDefinitionSchema.parse({
  name: 'Tasks',
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
  steps: [{ id: 'call', type: 'task', title: 'Call {{ lead.firstName }}', outcomes: ['done'] }],
});
const zone = 'America/New_York';
// Friday 2026-03-06, 22:00 in New York: outside the window.
const night = new Date('2026-03-07T03:00:00Z');

function input(waitingSince?: Date | null): StepInput {
  return { definition, stepId: 'call', stepEnteredAt: night, enrolledAt: night, now: night, lead: { id: 'l', email: 'a@b.test' }, zone, facts: [], suppressed: new Set(), waitingSince };
}

describe('a task step outside its window', () => {
  it('is created at the next opening when it has not waited yet', () => {
    expect(decideStep(input()).kind).toBe('defer');
    expect(decideStep(input(null)).kind).toBe('defer');
  });

  it('stays open once it waits: a wake at night does not take it out of the inbox', () => {
    expect(decideStep(input(new Date('2026-03-06T15:00:00Z')))).toEqual({ kind: 'await', waitingFor: 'task', until: null });
  });
});
