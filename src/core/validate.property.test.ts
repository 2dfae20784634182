import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STEP_TYPES } from './definition.ts';
import { validateDefinition } from './validate.ts';
import { designExample } from './validate.fixtures.ts';

/** Whatever the input, the answer has the promised shape. */
function expectWellFormed(input: unknown): void {
  const result = validateDefinition(input);
  const problems = result.ok ? result.warnings : result.problems;
  if (!result.ok) expect(problems.length).toBeGreaterThan(0);
  for (const p of [...problems, ...result.warnings]) {
    expect(p.path.startsWith('$')).toBe(true);
    expect(p.message.length).toBeGreaterThan(0);
    expect(p.message).not.toContain('\n');
  }
}

const idPool = ['intro', 'pause', 'opened', 'call', 'outcome', 'nudge', 'linkedin', 'done', 'cal', 'constructor', '__proto__', ''];
const fieldPool = ['id', 'type', 'next', 'then', 'else', 'when', 'within', 'duration', 'subject', 'body', 'text', 'script', 'title', 'routes', 'outcomes'];

type Mutation = (definition: { steps: Record<string, unknown>[] } & Record<string, unknown>) => void;

/** A field-level mutation on a step an earlier mutation replaced with a primitive does nothing. */
function onStep(i: number, change: (step: Record<string, unknown>) => void): Mutation {
  return (d) => {
    const step = d.steps[i % d.steps.length];
    if (typeof step === 'object' && step !== null) change(step);
  };
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ i: fc.nat(9), type: fc.oneof(fc.constantFrom(...STEP_TYPES), fc.string(), fc.anything()) }).map(
    ({ i, type }) => onStep(i, (step) => void (step['type'] = type)),
  ),
  fc.record({ i: fc.nat(9), field: fc.constantFrom('next', 'then', 'else'), target: fc.oneof(fc.constantFrom(...idPool), fc.string()) }).map(
    ({ i, field, target }) => onStep(i, (step) => void (step[field] = target)),
  ),
  fc.record({ i: fc.nat(9), field: fc.constantFrom(...fieldPool) }).map(
    ({ i, field }) => onStep(i, (step) => void delete step[field]),
  ),
  fc.record({ i: fc.nat(9), value: fc.anything() }).map(({ i, value }): Mutation => (d) => void (d.steps[i % d.steps.length] = value as never)),
  fc.constantFrom('name', 'schedule', 'quietHours', 'exitOn', 'steps').map((key): Mutation => (d) => void delete d[key]),
  fc.record({ key: fc.string(), value: fc.jsonValue() }).map(({ key, value }): Mutation => (d) => void (d[key] = value)),
  fc.record({ i: fc.nat(9), j: fc.nat(9) }).map(({ i, j }): Mutation => (d) => {
    const [a, b] = [d.steps[i % d.steps.length]!, d.steps[j % d.steps.length]!];
    d.steps[i % d.steps.length] = b;
    d.steps[j % d.steps.length] = a;
  }),
);

describe('validateDefinition never throws', () => {
  it('on anything', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, withSparseArray: true }), expectWellFormed), { numRuns: 300 });
  });

  it('on parsed JSON, including __proto__ keys', () => {
    fc.assert(fc.property(fc.json(), (text) => expectWellFormed(JSON.parse(text))), { numRuns: 300 });
    expectWellFormed(JSON.parse('{"__proto__": {"steps": []}, "name": "x", "steps": [{"__proto__": 1, "id": "a", "type": "end"}]}'));
  });

  it('on objects shaped like a definition with random values', () => {
    const shaped = fc.record(
      { name: fc.anything(), schedule: fc.anything(), exitOn: fc.anything(), steps: fc.array(fc.dictionary(fc.constantFrom(...fieldPool), fc.anything()), { maxLength: 8 }) },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(shaped, expectWellFormed), { numRuns: 300 });
  });

  it('on mutated versions of a valid definition', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const definition = structuredClone(designExample) as unknown as Parameters<Mutation>[0];
        for (const mutate of mutations) if (Array.isArray(definition.steps) && definition.steps.length > 0) mutate(definition);
        expectWellFormed(definition);
      }),
      { numRuns: 500 },
    );
  });
});
