import { describe, expect, it } from 'vitest';
import { formatProblems, validateDefinition } from './validate.ts';
import { branch, designExample, email, expectProblem, problemsOf, wait, withSteps } from './validate.fixtures.ts';

describe('validateDefinition: accepted documents', () => {
  it('accepts the DESIGN.md example without warnings and fills in defaults', () => {
    const result = validateDefinition(designExample);
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.definition.maxAttempts).toBe(5);
    expect(result.definition.steps[6]).toMatchObject({ id: 'linkedin', type: 'task' });
  });

  it('accepts a minimal document', () => {
    expect(validateDefinition(withSteps([email('a')]))).toMatchObject({ ok: true, warnings: [] });
  });
});

describe('validateDefinition: the document', () => {
  it.each([
    [null, 'not null'],
    [42, 'not the number 42'],
    ['steps', 'not the string "steps"'],
    [[], 'not a list'],
    [undefined, 'not nothing'],
  ])('rejects %j as a whole with one problem at $', (input, fragment) => {
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expectProblem(problems, '$', 'must be a JSON object', fragment);
  });

  it('reports every missing required field at once', () => {
    const problems = problemsOf({});
    expectProblem(problems, '$.name', 'Missing required field "name"');
    expectProblem(problems, '$.steps', 'Missing required field "steps"', 'a list');
  });

  it('names unknown fields and suggests the intended one', () => {
    const problems = problemsOf({ ...withSteps([email('a')]), stpes: [], colour: 'red' });
    expectProblem(problems, '$.stpes', 'Unknown field "stpes"', 'did you mean "steps"?');
    expectProblem(problems, '$.colour', 'Unknown field "colour"', 'remove it', 'name, description, schedule');
  });

  it('explains wrong types with the value received', () => {
    const problems = problemsOf(withSteps([email('a', { useAiWriter: 'yes' })], { maxAttempts: 2.5, quietHours: null }));
    expectProblem(problems, '$.steps[0].useAiWriter', '"useAiWriter" must be true or false, not the string "yes"');
    expectProblem(problems, '$.maxAttempts', 'must be a whole number, not the number 2.5');
    expectProblem(problems, '$.quietHours', 'must be an object, not null');
  });

  it('lists the allowed values of an enum and suggests the closest one', () => {
    const problems = problemsOf(withSteps([email('a')], { onError: 'stop', exitOn: ['email.reply'], schedule: { days: ['monday'] } }));
    expectProblem(problems, '$.onError', '"onError" policy "stop" is not known', 'use one of continue, exit');
    expectProblem(problems, '$.exitOn[0]', 'Exit trigger "email.reply" is not known', 'did you mean "email.replied"?');
    expectProblem(problems, '$.schedule.days[0]', 'Day "monday" is not known', 'mon, tue, wed, thu, fri, sat, sun');
  });

  it('reads the underscore spelling of a catalogue event in exitOn as the event (meeting_booked)', () => {
    const exitOn = ['meeting_booked', 'meeting_cancelled', 'sms_opted_out', 'email.replied', 'converted'];
    const result = validateDefinition(withSteps([email('a')], { exitOn }));
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    // What the engine matches is the dotted event; the document as written is left alone.
    expect(result.definition.exitOn).toEqual(['meeting.booked', 'meeting.cancelled', 'sms.opted_out', 'email.replied', 'converted']);
    expect(exitOn).toEqual(['meeting_booked', 'meeting_cancelled', 'sms_opted_out', 'email.replied', 'converted']);
    // Only a catalogue event's own spelling: no alias for converted, reply classes or custom events, and typos still get a guess.
    const problems = problemsOf(withSteps([email('a')], { exitOn: ['meeting_boked', 'custom_churned', 'reply_interested'] }));
    expectProblem(problems, '$.exitOn[0]', 'Exit trigger "meeting_boked" is not known');
    expectProblem(problems, '$.exitOn[1]', 'Exit trigger "custom_churned" is not known');
    expectProblem(problems, '$.exitOn[2]', 'Exit trigger "reply_interested" is not known');
  });

  it('counts an exit trigger and its underscore spelling as one (a duplicate, and a branch it shadows)', () => {
    const steps = [email('a'), branch('b', 'c', 'a', { when: { event: 'meeting_booked' } }), email('c')];
    const result = validateDefinition(withSteps(steps, { exitOn: ['meeting.booked', 'meeting_booked'] }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.definition.steps[1]).toMatchObject({ when: { event: 'meeting.booked' } });
    expect(result.warnings.map((w) => w.message).join('\n')).toContain('Exit trigger "meeting_booked" is already listed at exitOn[0]');
    expect(result.warnings.map((w) => w.message).join('\n')).toContain('but "exitOn" ends the enrollment on that event');
  });

  it('prefixes the schema messages for times, zones, dates and e-mail addresses with field and value', () => {
    const problems = problemsOf(
      withSteps([email('a')], {
        schedule: { timezone: 'Mars/Olympus', fallbackTimezone: 'Nowhere', start: '9am', end: '25:00', holidays: ['25/12/2026'] },
        quietHours: { start: '9pm' },
        sender: { email: 'not-an-address' },
      }),
    );
    expectProblem(problems, '$.schedule.timezone', 'Time zone "Mars/Olympus" is not a known IANA time zone');
    expectProblem(problems, '$.schedule.fallbackTimezone', 'Fallback time zone "Nowhere" is not a known IANA time zone');
    expectProblem(problems, '$.schedule.start', 'Start time "9am" must be a 24-hour local time "HH:MM"');
    expectProblem(problems, '$.schedule.end', 'End time "25:00" must be a 24-hour local time');
    expectProblem(problems, '$.schedule.holidays[0]', 'Holiday "25/12/2026" must be a date "YYYY-MM-DD"');
    expectProblem(problems, '$.quietHours.start', 'Start time "9pm"');
    expectProblem(problems, '$.sender.email', 'Email address "not-an-address" is not a valid email address');
  });

  it('explains a time zone of the wrong type through its union', () => {
    expectProblem(problemsOf(withSteps([email('a')], { schedule: { timezone: 5 } })), '$.schedule.timezone', 'must be "lead" or a string, not the number 5');
  });

  it('reports sizes: empty name, no steps, too many steps', () => {
    expectProblem(problemsOf({ name: '', steps: [email('a')] }), '$.name', '"name" must not be empty');
    expectProblem(problemsOf({ name: 'x', steps: [] }), '$.steps', 'at least 1 entry');
    const many = Array.from({ length: 201 }, (_, i) => wait(`w${i}`));
    expectProblem(problemsOf({ name: 'x', steps: many }), '$.steps', 'lists 201 entries; at most 200');
  });

  it('quotes odd keys in paths', () => {
    expectProblem(problemsOf({ ...withSteps([email('a')]), 'odd key': 1 }), '$["odd key"]', 'Unknown field "odd key"');
  });

  it('caps a flood of problems with a summary line', () => {
    const problems = problemsOf(withSteps([email('a')], { schedule: { holidays: Array.from({ length: 500 }, () => 'x') } }));
    expect(problems).toHaveLength(201);
    expectProblem(problems, '$', '…and 300 more problems');
  });
});

describe('validateDefinition: steps', () => {
  it('says an unknown step type is not known and lists the types', () => {
    expectProblem(
      problemsOf(withSteps([email('a'), { id: 'b', type: 'emial' }])),
      '$.steps[1].type',
      'Step type "emial" is not known; use one of email, sms, voice, wait, branch, task, end.',
    );
  });

  it('reports a missing or non-string type, and still checks the id', () => {
    const problems = problemsOf(withSteps([{ id: 'a b' }, { id: 'c', type: 7 }]));
    expectProblem(problems, '$.steps[0].type', 'Missing required field "type"; use one of email');
    expectProblem(problems, '$.steps[0].id', 'Step id "a b" must be 1–64 letters');
    expectProblem(problems, '$.steps[1].type', 'must be a string, not the number 7');
  });

  it('checks each step on its own, so one bad step hides nothing in the others', () => {
    const problems = problemsOf(withSteps([{ id: 'a', type: 'nope' }, 5, wait('w', '2 days'), { id: 'e', type: 'email', subjekt: 'x', body: 'b' }]));
    expectProblem(problems, '$.steps[0].type', 'not known');
    expectProblem(problems, '$.steps[1]', 'Each step must be an object', 'not the number 5');
    expectProblem(problems, '$.steps[2].duration', 'Duration "2 days" is not a non-negative ISO-8601 duration');
    expectProblem(problems, '$.steps[3].subjekt', 'Unknown field "subjekt"; did you mean "subject"?');
    // A subject is optional (absent: a reply in the thread), so the typo is the one problem there.
    expect(problems.filter((p) => p.path === '$.steps[3].subject' && p.message.includes('Missing'))).toEqual([]);
  });

  it('names the misspelt field of a step type', () => {
    const problems = problemsOf(withSteps([email('a'), { id: 'w', type: 'wait', duraton: 'P1D' }]));
    expectProblem(problems, '$.steps[1].duraton', 'Unknown field "duraton"; did you mean "duration"?');
    expectProblem(problems, '$.steps[1].duration', 'Missing required field "duration"');
  });

  it('explains branch conditions by the kind they name', () => {
    const problems = problemsOf(
      withSteps([
        email('a'),
        branch('b1', 'a', 'a', { when: undefined }),
        branch('b2', 'a', 'a', { when: { because: 1 } }),
        branch('b3', 'a', 'a', { when: { event: 'email.open' } }),
        branch('b4', 'a', 'a', { when: { outcome: [] } }),
        branch('b5', 'a', 'a', { when: { lead: { field: 'title', op: 'like' } } }),
        branch('b6', 'a', 'a', { when: 'opened' }),
      ]),
    );
    expectProblem(problems, '$.steps[1].when', 'Missing required field "when"');
    expectProblem(problems, '$.steps[2].when', 'needs one of the fields "event", "outcome", "lead" or "reply"');
    expectProblem(problems, '$.steps[3].when.event', 'Event "email.open" is not known; did you mean "email.opened"?');
    expectProblem(problems, '$.steps[4].when.outcome', 'at least 1 entry');
    expectProblem(problems, '$.steps[5].when.lead.op', 'Operator "like" is not known');
    expectProblem(problems, '$.steps[6].when', 'must be an object', 'not the string "opened"');
  });

  it('accepts an outcome condition', () => {
    const steps = [email('a'), branch('b', 'c', 'a', { when: { outcome: ['meeting_booked'] } }), email('c')];
    expect(validateDefinition(withSteps(steps)).ok).toBe(true);
  });
});

describe('validateDefinition: odd input never throws', () => {
  it('answers a throwing getter with a problem', () => {
    const input = Object.defineProperty({ name: 'x' }, 'steps', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(validateDefinition(input)).toMatchObject({ ok: false, problems: [{ path: '$' }] });
  });

  it('handles __proto__ and constructor keys as plain unknown fields', () => {
    const input = JSON.parse('{"__proto__": {"name": "x"}, "constructor": 1, "name": "n", "steps": [{"id": "a", "type": "end"}]}');
    const problems = problemsOf(input);
    expectProblem(problems, '$.__proto__', 'Unknown field "__proto__"');
    expectProblem(problems, '$.constructor', 'Unknown field "constructor"');
  });

  it('handles cyclic and deeply nested values', () => {
    const cyclic: Record<string, unknown> = { name: 'n' };
    cyclic['steps'] = [cyclic];
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = { deep };
    expect(validateDefinition(cyclic).ok).toBe(false);
    expect(validateDefinition({ name: 'n', steps: [deep], schedule: deep }).ok).toBe(false);
  });
});

describe('formatProblems', () => {
  it('prints one line per problem, path first', () => {
    const text = formatProblems([
      { path: '$.name', message: 'Missing required field "name".' },
      { path: '$.steps[0].type', message: 'Step type "x" is not known.' },
    ]);
    expect(text).toBe('$.name: Missing required field "name".\n$.steps[0].type: Step type "x" is not known.');
  });

  it('keeps user text containing newlines on one line', () => {
    const problems = problemsOf(withSteps([{ id: 'a', type: 'line\nbreak' }]));
    expect(formatProblems(problems).split('\n')).toHaveLength(problems.length);
  });
});
