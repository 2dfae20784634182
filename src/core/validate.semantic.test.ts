import { describe, expect, it } from 'vitest';
import { sequenceDefinitionSchema } from './definition.ts';
import { reachableStepIds, validateDefinition } from './validate.ts';
import { branch, designExample, email, expectProblem, problemsOf, sms, wait, warningsOf, withSteps } from './validate.fixtures.ts';

describe('step graph', () => {
  it('rejects duplicate step ids at the later step', () => {
    expectProblem(problemsOf(withSteps([email('a'), wait('a')])), '$.steps[1].id', 'Step id "a" is already used by steps[0]');
  });

  it('rejects dangling next, then, else, routes and condition steps, naming the known ids', () => {
    const problems = problemsOf(
      withSteps([
        email('intro', { next: 'pauze' }),
        wait('pause'),
        branch('b', 'cal', 'nudge', { when: { event: 'email.opened', step: 'intr' } }),
        { id: 'call', type: 'task', title: 'Call', routes: { done: 'fin' } },
      ]),
    );
    expectProblem(problems, '$.steps[0].next', '"next" points at step "pauze", which does not exist; known step ids: intro, pause, b, call.');
    expectProblem(problems, '$.steps[2].then', '"then" points at step "cal", which does not exist; known step ids: intro, pause, b, call.');
    expectProblem(problems, '$.steps[2].else', '"else" points at step "nudge"');
    expectProblem(problems, '$.steps[2].when.step', '"step" points at step "intr"');
    expectProblem(problems, '$.steps[3].routes.done', 'Route "done" points at step "fin"');
    // A dangling target makes its intended step look unreachable; that would only add noise.
    expect(problems.filter((p) => p.message.includes('never be reached'))).toEqual([]);
  });

  it('rejects a condition naming a step of another channel', () => {
    const problems = problemsOf(
      withSteps([
        sms('text'),
        wait('pause'),
        branch('b1', 'pause', 'c', { when: { event: 'email.opened', step: 'text' } }),
        branch('c', 'd', 'd', { when: { event: 'manual.outcome', step: 'pause' } }),
        { id: 'd', type: 'end' },
      ]),
    );
    expectProblem(problems, '$.steps[2].when.step', '"step" names "text", an sms step, but "email.opened" comes from email steps');
    expectProblem(problems, '$.steps[3].when.step', 'a manual outcome is recorded on an email, sms, voice or task step');
  });

  it('accepts call events on a voice step', () => {
    const steps = [{ id: 'call', type: 'voice', script: 'Hi' }, branch('b', 'x', 'call', { when: { event: 'call.answered', step: 'call' } }), email('x')];
    expect(validateDefinition(withSteps(steps)).ok).toBe(true);
  });

  it('rejects steps that can never be reached', () => {
    const problems = problemsOf(withSteps([email('a', { next: 'c' }), email('b'), email('c'), { id: 'end', type: 'end' }, email('after')]));
    expectProblem(problems, '$.steps[1]', 'Step "b" can never be reached from the first step "a"');
    expectProblem(problems, '$.steps[4]', 'Step "after" can never be reached');
    expect(problems).toHaveLength(2);
  });

  it('follows task routes and the task\'s own next in order', () => {
    const task = { id: 't', type: 'task', title: 'Call', outcomes: ['yes', 'no'], routes: { yes: 'won' } };
    const steps = [task, email('followup', { next: 'end' }), email('won'), { id: 'end', type: 'end' }];
    expect(validateDefinition(withSteps(steps)).ok).toBe(true);
  });

  it('rejects a loop without a wait and draws it', () => {
    const problems = problemsOf(withSteps([email('a'), sms('b'), email('c', { next: 'a' })]));
    expectProblem(problems, '$.steps[0]', 'Steps "a" → "b" → "c" → "a" form a loop with no wait', 'add a wait step');
  });

  it('rejects a step that jumps to itself, and a loop whose only wait is zero long', () => {
    expectProblem(problemsOf(withSteps([email('a', { next: 'a' })])), '$.steps[0]', 'Steps "a" → "a" form a loop');
    expectProblem(problemsOf(withSteps([email('a'), wait('w', 'PT0S', { next: 'a' })])), '$.steps[0]', 'form a loop');
  });

  it('finds a loop that bypasses the wait of a larger cycle', () => {
    const steps = [email('a'), branch('b', 'a', 'w', { within: 'PT0S' }), wait('w', 'P1D', { next: 'a' })];
    expectProblem(problemsOf(withSteps(steps)), '$.steps[0]', 'Steps "a" → "b" → "a" form a loop');
  });

  it('accepts loops held by a wait, a branch timeout or a task', () => {
    expect(validateDefinition(withSteps([email('a'), wait('w', 'P3D', { next: 'a' })])).ok).toBe(true);
    expect(validateDefinition(withSteps([email('a'), branch('b', 'done', 'a'), { id: 'done', type: 'end' }])).ok).toBe(true);
    const task = { id: 't', type: 'task', title: 'Try again?', outcomes: ['again', 'stop'], routes: { again: 'a' } };
    expect(validateDefinition(withSteps([email('a'), task])).ok).toBe(true);
  });

  it('rejects an end step with a next', () => {
    const problems = problemsOf(withSteps([email('a'), { id: 'z', type: 'end', next: 'a' }]));
    expectProblem(problems, '$.steps[1].next', 'An "end" step stops the enrollment, so its "next" ("a") is never followed');
  });

  it('treats falling off the end of the list as completion', () => {
    expect(validateDefinition(withSteps([email('a'), wait('w')]))).toMatchObject({ ok: true, warnings: [] });
  });

  it('checks the graph even when the schedule is broken', () => {
    const problems = problemsOf(withSteps([email('a', { next: 'nowhere' })], { schedule: { timezone: 'Bad/Zone' } }));
    expectProblem(problems, '$.schedule.timezone', 'not a known IANA time zone');
    expectProblem(problems, '$.steps[0].next', 'points at step "nowhere"');
  });

  it('skips graph checks while a step has no usable id or type', () => {
    const problems = problemsOf(withSteps([email('a', { next: 'b' }), { type: 'email', subject: 's', body: 'b' }, email('c')]));
    expect(problems.map((p) => p.path)).toEqual(['$.steps[1].id']);
  });
});

describe('warnings', () => {
  it('warns when then and else are the same step', () => {
    const warnings = warningsOf(withSteps([email('a'), branch('b', 'c', 'c'), email('c')]));
    expectProblem(warnings, '$.steps[1].else', '"then" and "else" both point at "c"');
  });

  it('warns about a sequence that never reaches the lead', () => {
    expectProblem(warningsOf(withSteps([wait('w')])), '$.steps', 'no email, sms, voice or task step');
  });

  it('warns about duplicate exit triggers', () => {
    const warnings = warningsOf(withSteps([email('a')], { exitOn: ['converted', 'email.replied', 'converted'] }));
    expectProblem(warnings, '$.exitOn[2]', 'Exit trigger "converted" is already listed at exitOn[0]');
  });

  it('warns when a branch waits for an event that exits the enrollment (default exitOn too)', () => {
    const steps = [email('a'), branch('b', 'c', 'd', { when: { event: 'email.replied', step: 'a' } }), email('c'), email('d')];
    expectProblem(warningsOf(withSteps(steps)), '$.steps[1].when.event', '"exitOn" ends the enrollment on that event');
    expect(warningsOf(withSteps(steps, { exitOn: ['converted'] }))).toEqual([]);
  });

  it('warns about routes for outcomes the task does not offer, and a branch next', () => {
    const task = { id: 't', type: 'task', title: 'Call', routes: { maybe: 'a' } };
    const warnings = warningsOf(withSteps([email('a'), task, branch('b', 'a', 'c', { next: 'a' }), email('c')]));
    expectProblem(warnings, '$.steps[1].routes.maybe', 'Route "maybe" is not one of the task\'s outcomes (done, skipped)');
    expectProblem(warnings, '$.steps[2].next', 'its "next" ("a") is ignored');
  });

  it('returns warnings alongside problems on failure', () => {
    const result = validateDefinition(withSteps([wait('w')], { name: '' }));
    expect(result).toMatchObject({ ok: false, warnings: [{ path: '$.steps' }] });
  });
});

describe('schedule and quiet hours', () => {
  it('allows identical start and end as a full-day window', () => {
    expect(validateDefinition(withSteps([sms('a')], { schedule: { start: '00:00', end: '00:00' } })).ok).toBe(true);
  });

  it('rejects holidays that are not calendar dates and accepts leap days', () => {
    const problems = problemsOf(withSteps([email('a')], { schedule: { holidays: ['2026-02-30', '2028-02-29', '2026-04-31'] } }));
    expectProblem(problems, '$.schedule.holidays[0]', 'Holiday "2026-02-30" is not a real calendar date');
    expectProblem(problems, '$.schedule.holidays[2]', '"2026-04-31"');
    expect(problems).toHaveLength(2);
  });

  it('rejects 24:00 as a start time', () => {
    expectProblem(problemsOf(withSteps([email('a')], { schedule: { start: '24:00' } })), '$.schedule.start', 'only allowed as an end time');
  });

  it('rejects quiet hours that cover the whole schedule window for a channel in use', () => {
    const night = { schedule: { start: '22:00', end: '07:00' } };
    const problems = problemsOf(withSteps([email('a'), sms('b')], night));
    expectProblem(problems, '$.quietHours', 'cover the whole schedule window 22:00–07:00, so sms steps can never be sent');
    expect(validateDefinition(withSteps([email('a')], night)).ok).toBe(true);
  });

  it('warns about quiet hours with equal start and end', () => {
    expectProblem(warningsOf(withSteps([email('a')], { quietHours: { start: '21:00', end: '21:00' } })), '$.quietHours', 'same time');
  });
});

describe('reachableStepIds', () => {
  it('lists the reachable steps in array order', () => {
    const definition = sequenceDefinitionSchema.parse(withSteps([email('a', { next: 'c' }), email('b'), email('c')]));
    expect(reachableStepIds(definition)).toEqual(['a', 'c']);
    expect(reachableStepIds(sequenceDefinitionSchema.parse(designExample))).toHaveLength(8);
  });
});
