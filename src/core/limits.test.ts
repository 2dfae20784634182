import { describe, expect, it } from 'vitest';
import { decideStep, type StepInput } from './decide.ts';
import { sequenceDefinitionSchema } from './definition.ts';
import { DEFAULT_FREQUENCY_CAPS, effectiveCaps, localDayBounds, type LeadSendsToday } from './limits.ts';

const definition = sequenceDefinitionSchema.parse({
  name: 'Cap',
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
  steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'hi' }, { id: 'text', type: 'sms', text: 'hi' }],
});
const zone = 'America/New_York';
// Friday 2026-03-06, 10:00 in New York.
const now = new Date('2026-03-06T15:00:00Z');

function input(stepId: string, sendsToday?: LeadSendsToday): StepInput {
  return { definition, stepId, stepEnteredAt: now, enrolledAt: now, now, lead: { id: 'l', email: 'a@b.test', phone: '+15550001111' }, zone, facts: [], suppressed: new Set(), sendsToday };
}

function today(sent: LeadSendsToday['sent'], caps = DEFAULT_FREQUENCY_CAPS): LeadSendsToday {
  const { start, end } = localDayBounds(now, zone);
  return { caps, sent, dayStart: start, dayEnd: end };
}

describe('the per-lead frequency cap', () => {
  it("the day is the lead's local calendar day, 23 hours on the spring-forward day", () => {
    expect(localDayBounds(now, zone)).toEqual({ start: new Date('2026-03-06T05:00:00Z'), end: new Date('2026-03-07T05:00:00Z') });
    const dst = localDayBounds(new Date('2026-03-08T12:00:00Z'), zone);
    expect(dst.end.getTime() - dst.start.getTime()).toBe(23 * 3_600_000);
  });

  it('a day remembered per zone is only reused inside it: back, forth and across midnight', () => {
    const ny = 'America/New_York';
    const tokyo = 'Asia/Tokyo';
    const days = [
      ['2026-03-07T04:59:59.999Z', ny, '2026-03-06T05:00:00Z', '2026-03-07T05:00:00Z'],
      ['2026-03-07T05:00:00Z', ny, '2026-03-07T05:00:00Z', '2026-03-08T05:00:00Z'],
      ['2026-03-08T12:00:00Z', ny, '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z'],
      ['2026-03-07T06:00:00Z', tokyo, '2026-03-06T15:00:00Z', '2026-03-07T15:00:00Z'],
      ['2026-03-06T12:00:00Z', ny, '2026-03-06T05:00:00Z', '2026-03-07T05:00:00Z'],
    ] as const;
    for (const [at, where, start, end] of [...days, ...days.slice().reverse()]) {
      expect(localDayBounds(new Date(at), where), `${at} in ${where}`).toEqual({ start: new Date(start), end: new Date(end) });
    }
  });

  it('sends under the cap and defers at it to the first opening after the day ends (Monday 09:00), with the reason', () => {
    expect(decideStep(input('hello', today({ email: 2 }))).kind).toBe('deliver');
    expect(decideStep(input('hello', today({ email: 3 })))).toEqual({
      kind: 'defer',
      until: new Date('2026-03-09T13:00:00Z'),
      reason: 'frequency_cap',
      detail: 'frequency_cap: 3 emails already sent to this lead today (at most 3 emails per day); deferred to 2026-03-09T13:00:00.000Z',
    });
  });

  it('counts each channel on its own, and 0 means no cap', () => {
    expect(decideStep(input('text', today({ email: 9, sms: 1 }))).kind).toBe('deliver');
    expect(decideStep(input('text', today({ sms: 2 }))).kind).toBe('defer');
    expect(decideStep(input('text', today({ sms: 50 }, { email: 3, sms: 0, voice: 2 }))).kind).toBe('deliver');
  });

  it('a count loaded for yesterday does not hold today; no count (a dry run) means no cap', () => {
    const yesterday = localDayBounds(new Date('2026-03-05T15:00:00Z'), zone);
    expect(decideStep(input('hello', { caps: DEFAULT_FREQUENCY_CAPS, sent: { email: 9 }, dayStart: yesterday.start, dayEnd: yesterday.end })).kind).toBe('deliver');
    expect(decideStep(input('hello')).kind).toBe('deliver');
  });

  it('workspace overrides replace the defaults per channel', () => {
    expect(effectiveCaps(DEFAULT_FREQUENCY_CAPS, { sms: 5, email: null })).toEqual({ email: 3, sms: 5, voice: 2 });
    expect(effectiveCaps({ email: 1, sms: 1, voice: 1 }, null)).toEqual({ email: 1, sms: 1, voice: 1 });
  });
});
