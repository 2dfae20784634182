import { describe, expect, it } from 'vitest';
import { sequenceDefinitionSchema, type SequenceDefinitionInput, type Weekday } from './definition.ts';
import { simulate, type HypotheticalEvent } from './simulate.ts';

const define = (input: SequenceDefinitionInput) => sequenceDefinitionSchema.parse(input);
const lee = { id: 'l1', email: 'lee@acme.test', phone: '+15552223333', firstName: 'Lee', timezone: 'America/New_York' };
const run = (definition: SequenceDefinitionInput, start: string, events: Array<Omit<HypotheticalEvent, 'at'> & { at: string }> = [], lead = lee) =>
  simulate({ definition: define(definition), lead, start: new Date(start), events: events.map((e) => ({ ...e, at: new Date(e.at) })) });

const weekdays = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as Weekday[], start: '09:00', end: '17:00' };

describe('simulate', () => {
  it('moves a 3 a.m. email to the window opening in the lead zone', () => {
    const out = run({ name: 's', schedule: { ...weekdays }, steps: [{ id: 'a', type: 'email', subject: 'Hi', body: 'x' }] }, '2026-03-04T08:00:00Z');
    expect(out.map((e) => [e.at, e.action])).toEqual([
      ['2026-03-04T08:00:00.000Z', 'wait'],
      ['2026-03-04T14:00:00.000Z', 'send'], // 09:00 EST
      ['2026-03-04T14:00:00.000Z', 'end'],
    ]);
  });

  it('keeps 09:00 local across spring-forward in New York (P1D wait)', () => {
    const out = run(
      {
        name: 's',
        schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '09:00', end: '17:00' },
        steps: [
          { id: 'a', type: 'email', subject: 'Hi', body: 'x' },
          { id: 'w', type: 'wait', duration: 'P1D' },
          { id: 'b', type: 'email', subject: 'Again', body: 'y' },
        ],
      },
      '2026-03-07T14:00:00Z', // Sat 09:00 EST; Sunday 8 March is the change
    );
    const sends = out.filter((e) => e.action === 'send').map((e) => e.at);
    expect(sends).toEqual(['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z']); // 09:00 EST, then 09:00 EDT
  });

  it('keeps 09:00 local across fall-back in Berlin for a business-day wait over a weekend', () => {
    const out = run(
      {
        name: 's',
        schedule: { ...weekdays },
        steps: [
          { id: 'a', type: 'email', subject: 'Hi', body: 'x' },
          { id: 'w', type: 'wait', duration: 'P1D', businessDays: true },
          { id: 'b', type: 'email', subject: 'Again', body: 'y' },
        ],
      },
      '2026-10-23T07:00:00Z', // Fri 09:00 CEST; Sunday 25 October falls back
      [],
      { ...lee, timezone: 'Europe/Berlin' },
    );
    const sends = out.filter((e) => e.action === 'send').map((e) => e.at);
    expect(sends).toEqual(['2026-10-23T07:00:00.000Z', '2026-10-26T08:00:00.000Z']); // Mon 09:00 CET
  });

  it('keeps SMS out of quiet hours even inside the schedule window', () => {
    const out = run(
      {
        name: 's',
        schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
        steps: [{ id: 't', type: 'sms', text: 'Hi' }],
      },
      '2026-06-10T02:00:00Z', // 22:00 EDT
    );
    expect(out.find((e) => e.action === 'send')!.at).toBe('2026-06-10T12:00:00.000Z'); // 08:00 EDT
  });

  it('falls back to the sequence zone for a lead without one', () => {
    const out = run(
      { name: 's', schedule: { ...weekdays, fallbackTimezone: 'Asia/Tokyo' }, steps: [{ id: 'a', type: 'email', subject: 'Hi', body: 'x' }] },
      '2026-03-04T12:00:00Z', // 21:00 in Tokyo
      [],
      { ...lee, timezone: null as unknown as string },
    );
    expect(out.find((e) => e.action === 'send')!.at).toBe('2026-03-05T00:00:00.000Z'); // 09:00 JST next day
  });

  const branchy: SequenceDefinitionInput = {
    name: 'b',
    schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
    quietHours: { channels: [] },
    steps: [
      { id: 'intro', type: 'email', subject: 'Hi', body: 'x' },
      { id: 'opened', type: 'branch', when: { event: 'email.opened', step: 'intro' }, within: 'P1D', then: 'call', else: 'nudge' },
      { id: 'call', type: 'voice', script: 'Hello', next: 'done' },
      { id: 'nudge', type: 'sms', text: 'Nudge' },
      { id: 'done', type: 'end' },
    ],
  };

  it('takes then at the moment the event happens', () => {
    const out = run(branchy, '2026-03-04T15:00:00Z', [{ type: 'email.opened', step: 'intro', at: '2026-03-04T18:30:00Z' }]);
    expect(out.filter((e) => e.action !== 'wait').map((e) => [e.at, e.stepId, e.action, e.detail.split(':')[0]])).toEqual([
      ['2026-03-04T15:00:00.000Z', 'intro', 'send', 'email at Wed 2026-03-04 10'],
      ['2026-03-04T15:00:00.000Z', 'opened', 'branch', 'waits for the condition until Thu 2026-03-05 10'],
      ['2026-03-04T18:30:00.000Z', 'opened', 'branch', 'then → call'],
      ['2026-03-04T18:30:00.000Z', 'call', 'send', 'voice at Wed 2026-03-04 13'],
      ['2026-03-04T18:30:00.000Z', 'done', 'end', 'sequence completed'],
    ]);
  });

  it('takes else when within runs out, and ignores an event on another step', () => {
    const out = run(branchy, '2026-03-04T15:00:00Z', [{ type: 'email.opened', step: 'other', at: '2026-03-04T16:00:00Z' }]);
    expect(out.filter((e) => e.action === 'branch').at(-1)).toMatchObject({ at: '2026-03-05T15:00:00.000Z', detail: 'else → nudge' });
    expect(out.filter((e) => e.action === 'send').map((e) => e.stepId)).toEqual(['intro', 'nudge']);
  });

  it('exits at the reply, mid-wait', () => {
    const out = run(
      { ...branchy, steps: [{ id: 'a', type: 'email', subject: 'Hi', body: 'x' }, { id: 'w', type: 'wait', duration: 'P3D' }, { id: 'b', type: 'sms', text: 'y' }] },
      '2026-03-04T15:00:00Z',
      [{ type: 'email.replied', at: '2026-03-05T10:00:00Z' }],
    );
    expect(out.at(-1)).toMatchObject({ at: '2026-03-05T10:00:00.000Z', action: 'exit', detail: 'exited: replied (email.replied)' });
  });

  it('stops at a task nobody answers, and follows its route when an outcome arrives', () => {
    const def: SequenceDefinitionInput = {
      ...branchy,
      steps: [
        { id: 't', type: 'task', title: 'Call them', routes: { skipped: 'end' } },
        { id: 'a', type: 'email', subject: 'Hi', body: 'x' },
        { id: 'end', type: 'end' },
      ],
    };
    expect(run(def, '2026-03-04T15:00:00Z').at(-1)).toMatchObject({ action: 'task', detail: 'task "Call them" waits for an operator outcome' });
    const routed = run(def, '2026-03-04T15:00:00Z', [{ type: 'manual.outcome', outcome: 'skipped', at: '2026-03-04T16:00:00Z' }]);
    expect(routed.map((e) => e.action)).toEqual(['task', 'task', 'end']);
  });

  it('reports a template that would fail instead of sending a blank', () => {
    const out = run(
      { ...branchy, steps: [{ id: 'a', type: 'email', subject: 'Hi {{ lead.company }}', body: 'x' }] },
      '2026-03-04T15:00:00Z',
    );
    expect(out[0]!.detail).toMatch(/would fail: .*lead\.company/);
  });

  it('stops a loop after its decision budget', () => {
    const out = simulate({
      definition: define({ ...branchy, steps: [{ id: 'w', type: 'wait', duration: 'PT1H', next: 'w' }] }),
      lead: lee,
      start: new Date('2026-03-04T15:00:00Z'),
      maxDecisions: 50,
    });
    expect(out.at(-1)!.detail).toMatch(/stopped after 50 decisions/);
  });
});

describe('simulate with A/B variants', () => {
  const ab = define({
    name: 'ab',
    steps: [{ id: 'intro', type: 'email', subject: 'Base', body: 'x', variants: [{ id: 'a', subject: 'Subject A' }, { id: 'b', weight: 3, subject: 'Subject B' }] }],
  });
  const at = new Date('2026-03-04T15:00:00Z');
  const sendOf = (entries: ReturnType<typeof simulate>) => entries.find((e) => e.action === 'send')!;

  it("names the enrolled lead's own variant, the one the engine gives", async () => {
    const { assignVariant } = await import('./variants.ts');
    for (const enrollmentId of ['0b5f3e36-1111-4000-8000-000000000001', '0b5f3e36-1111-4000-8000-000000000002', '0b5f3e36-1111-4000-8000-000000000003']) {
      const expected = assignVariant(ab.steps[0]!, enrollmentId)!.variantId;
      const send = sendOf(simulate({ definition: ab, lead: lee, start: at, enrollmentId }));
      expect(send.variant).toBe(expected);
      expect(send.detail).toContain(`variant ${expected} of this enrollment`);
      expect(send.detail).toContain(expected === 'a' ? 'Subject A' : 'Subject B');
    }
  });

  it('says how the weights split before enrollment, and gives the decided winner', () => {
    expect(sendOf(simulate({ definition: ab, lead: lee, start: at })).detail).toContain('picked at enrollment by weight: a 25 %, b 75 %; showing a');
    const won = sendOf(simulate({ definition: ab, lead: lee, start: at, enrollmentId: 'e', winners: { intro: 'b' } }));
    expect(won).toMatchObject({ variant: 'b', detail: expect.stringContaining('(variant b, the decided winner): Subject B') });
  });
});
