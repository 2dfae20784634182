/**
 * Reply classes driving a sequence (docs/SEQUENCES.md, "Reply classes"): `when: {reply: …}` in a
 * branch and `exitOn: ["reply.<class>"]`, validated, decided and dry-run by the core.
 */
import { describe, expect, it } from 'vitest';
import { conditionHolds, type Fact } from './conditions.ts';
import { decideStep, findExitTrigger, triggersOf } from './decide.ts';
import { sequenceDefinitionSchema, type SequenceDefinitionInput } from './definition.ts';
import { simulate, type HypotheticalEvent } from './simulate.ts';
import { branch, email, expectProblem, problemsOf, wait, warningsOf, withSteps } from './validate.fixtures.ts';

const lead = { id: 'l1', email: 'lee@acme.test', timezone: 'UTC' };
const at = (iso: string) => new Date(iso);
const reply = (iso: string, replyClass: string, stepId = 'intro'): Fact => ({ type: 'email.replied', at: at(iso), stepId, replyClass });

/** Replies end the enrollment by class only, so a reply branch can see the others. */
const byClass = { exitOn: ['reply.unsubscribe', 'reply.not_interested', 'email.bounced', 'converted'] };
const flow: SequenceDefinitionInput = {
  name: 'Reply routing',
  schedule: { start: '00:00', end: '00:00' },
  exitOn: byClass.exitOn as SequenceDefinitionInput['exitOn'],
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' },
    { id: 'route', type: 'branch', when: { reply: ['interested'] }, within: 'P3D', then: 'book', else: 'nudge' },
    { id: 'book', type: 'task', title: 'Book the call' },
    { id: 'done', type: 'end' },
    { id: 'nudge', type: 'email', subject: 'Again', body: 'Hello again' },
  ],
};

describe('reply conditions: validation', () => {
  it('accepts a class or a list, with an optional email or SMS step', () => {
    const steps = [email('intro'), branch('b', 'c', 'intro', { when: { reply: 'interested', step: 'intro' } }), email('c'), branch('d', 'e', 'c', { when: { reply: ['not_now', 'out_of_office'] } }), email('e')];
    expect(warningsOf(withSteps(steps, byClass))).toEqual([]);
  });

  it('refuses an unknown class, an empty list, an unknown field and a step that sends no message', () => {
    const problems = problemsOf(
      withSteps(
        [
          email('intro'),
          wait('pause'),
          branch('b1', 'intro', 'pause', { when: { reply: 'happy' } }),
          branch('b2', 'intro', 'pause', { when: { reply: [] } }),
          branch('b3', 'intro', 'pause', { when: { reply: 'interested', class: 'x' } }),
          branch('b4', 'intro', 'pause', { when: { reply: 'interested', step: 'pause' } }),
        ],
        byClass,
      ),
    );
    expectProblem(problems, '$.steps[2].when.reply', '"out_of_office"', 'not the string "happy"');
    expectProblem(problems, '$.steps[3].when.reply', 'at least 1');
    expect(problems.some((p) => p.path.startsWith('$.steps[4].when') && p.message.includes('"class"'))).toBe(true);
    expectProblem(problems, '$.steps[5].when.step', 'a reply answers an email or an SMS');
  });

  it('takes reply.<class> in exitOn and refuses an unknown class there', () => {
    expect(warningsOf(withSteps([email('intro')], { exitOn: ['reply.wrong_person'] }))).toEqual([]);
    const problems = problemsOf(withSteps([email('intro')], { exitOn: ['reply.angry'] }));
    expectProblem(problems, '$.exitOn[0]', 'is not known');
  });

  it('warns when exitOn ends the enrollment on every reply (the default) or on the classes waited for', () => {
    const steps = [email('intro'), branch('b', 'c', 'intro', { when: { reply: 'interested' } }), email('c')];
    const byDefault = warningsOf(withSteps(steps));
    expect(byDefault.find((w) => w.path === '$.steps[1].when.reply')?.message).toContain('"email.replied" and "sms.replied"');
    const shadowed = warningsOf(withSteps(steps, { exitOn: ['reply.interested'] }));
    expect(shadowed.find((w) => w.path === '$.steps[1].when.reply')?.message).toContain('"then" is never taken');
    expect(warningsOf(withSteps(steps, { exitOn: ['reply.unsubscribe'] }))).toEqual([]);
  });
});

describe('reply conditions: decisions', () => {
  const condition = { reply: ['interested' as const] };

  it('the latest reply decides, and a later reply can change the answer', () => {
    const facts = [reply('2026-03-02T10:00:00Z', 'out_of_office'), reply('2026-03-03T10:00:00Z', 'interested')];
    expect(conditionHolds(condition, facts, lead, at('2026-03-02T12:00:00Z'))).toBe(false);
    expect(conditionHolds(condition, facts, lead, at('2026-03-03T12:00:00Z'))).toBe(true);
    expect(conditionHolds({ reply: 'out_of_office' }, facts, lead, at('2026-03-03T12:00:00Z'))).toBe(false);
  });

  it('no reply, an unclassified one, or a reply to another step does not hold', () => {
    expect(conditionHolds(condition, [], lead, at('2026-03-03T12:00:00Z'))).toBe(false);
    const unclassified: Fact = { type: 'sms.replied', at: at('2026-03-02T10:00:00Z'), replyClass: null };
    expect(conditionHolds(condition, [unclassified], lead, at('2026-03-03T12:00:00Z'))).toBe(false);
    const facts = [reply('2026-03-02T10:00:00Z', 'interested', 'other')];
    expect(conditionHolds({ reply: 'interested', step: 'intro' }, facts, lead, at('2026-03-03T12:00:00Z'))).toBe(false);
    expect(conditionHolds({ reply: 'interested' }, facts, lead, at('2026-03-03T12:00:00Z'))).toBe(true);
  });

  it('a classified reply fires reply.<class> before its type; other events only their type', () => {
    expect(triggersOf({ type: 'email.replied', replyClass: 'not_now' })).toEqual(['reply.not_now', 'email.replied']);
    expect(triggersOf({ type: 'email.opened' })).toEqual(['email.opened']);
    const definition = sequenceDefinitionSchema.parse(flow);
    const enrolled = at('2026-03-01T00:00:00Z');
    expect(findExitTrigger(definition, [reply('2026-03-02T00:00:00Z', 'interested')], enrolled, at('2026-03-05T00:00:00Z'))).toBeUndefined();
    expect(findExitTrigger(definition, [reply('2026-03-02T00:00:00Z', 'not_interested')], enrolled, at('2026-03-05T00:00:00Z'))).toBe('reply.not_interested');
    const both = sequenceDefinitionSchema.parse({ ...flow, exitOn: ['email.replied', 'reply.unsubscribe'] });
    expect(findExitTrigger(both, [reply('2026-03-02T00:00:00Z', 'unsubscribe')], enrolled, at('2026-03-05T00:00:00Z'))).toBe('reply.unsubscribe');
  });

  it('decideStep takes the branch on the class and exits with the reason reply.<class>', () => {
    const definition = sequenceDefinitionSchema.parse(flow);
    const base = { definition, stepId: 'route', stepEnteredAt: at('2026-03-01T00:00:00Z'), enrolledAt: at('2026-03-01T00:00:00Z'), now: at('2026-03-02T12:00:00Z'), lead, zone: 'UTC', suppressed: new Set<never>() };
    expect(decideStep({ ...base, facts: [reply('2026-03-02T00:00:00Z', 'interested')] })).toMatchObject({ kind: 'advance', next: 'book', detail: { branch: 'then' } });
    expect(decideStep({ ...base, facts: [reply('2026-03-02T00:00:00Z', 'not_now')] })).toMatchObject({ kind: 'await', waitingFor: 'branch' });
    expect(decideStep({ ...base, facts: [reply('2026-03-02T00:00:00Z', 'not_interested')] })).toEqual({ kind: 'exit', reason: 'reply.not_interested', trigger: 'reply.not_interested' });
  });
});

describe('reply conditions: simulate', () => {
  const definition = sequenceDefinitionSchema.parse(flow);
  const run = (events: Array<Omit<HypotheticalEvent, 'at'> & { at: string }>) =>
    simulate({ definition, lead, start: at('2026-03-02T09:00:00Z'), events: events.map((e) => ({ ...e, at: at(e.at) })) });

  it('classifies a hypothetical reply by its text and names the class on the branch', () => {
    const out = run([{ type: 'email.replied', at: '2026-03-03T09:00:00Z', text: 'Sounds good, when are you free?' }]);
    expect(out.find((e) => e.action === 'branch' && e.detail.startsWith('then'))?.detail).toBe('then → book (latest reply: interested)');
  });

  it('exits on a class exitOn lists, given or read from the text', () => {
    const given = run([{ type: 'email.replied', at: '2026-03-03T09:00:00Z', replyClass: 'not_interested' }]);
    expect(given.at(-1)).toMatchObject({ action: 'exit', detail: 'exited: reply.not_interested (reply.not_interested)', at: '2026-03-03T09:00:00.000Z' });
    const read = run([{ type: 'email.replied', at: '2026-03-03T09:00:00Z', text: 'Please unsubscribe me.' }]);
    expect(read.at(-1)).toMatchObject({ action: 'exit', detail: 'exited: reply.unsubscribe (reply.unsubscribe)' });
  });

  it('a reply of another class lets the branch run out to else', () => {
    const out = run([{ type: 'email.replied', at: '2026-03-03T09:00:00Z', text: 'Not right now, maybe next quarter.' }]);
    expect(out.find((e) => e.action === 'branch' && e.detail.startsWith('else'))?.detail).toBe('else → nudge (latest reply: not_now)');
  });
});
