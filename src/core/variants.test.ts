import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailStepSchema, type EmailStep } from './definition.ts';
import { applyVariant, assignmentPoint, assignVariant, describeSplit, pickByWeight } from './variants.ts';
import { validateDefinition } from './validate.ts';

const step = (variants: Array<{ id: string; weight?: number; subject?: string; body?: string }>): EmailStep =>
  emailStepSchema.parse({ id: 'intro', type: 'email', subject: 'Hello', body: 'Hi', variants });

/** A v4-shaped id from a fast-check seed: the assignment sees the same kind of string as in production. */
const uuid = fc.uuid();

describe('variant assignment', () => {
  it('is the same for the same enrollment and step, whatever is asked in between', () => {
    const s = step([{ id: 'a' }, { id: 'b' }, { id: 'c', weight: 2 }]);
    fc.assert(
      fc.property(uuid, fc.array(uuid, { maxLength: 5 }), (enrollmentId, others) => {
        const first = assignVariant(s, enrollmentId)!.variantId;
        for (const other of others) assignVariant(s, other);
        expect(assignVariant(s, enrollmentId)!.variantId).toBe(first);
      }),
    );
  });

  it('splits many enrollments in proportion to the weights (property: any weights, 20,000 enrollments)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 5 }), fc.integer(), (weights, salt) => {
        const s = step(weights.map((weight, i) => ({ id: `v${i}`, weight })));
        const counts = new Map<string, number>();
        const n = 20_000;
        for (let i = 0; i < n; i++) {
          const id = assignVariant(s, `00000000-0000-4000-8000-${(salt >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(4, '0')}`)!.variantId;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        weights.forEach((w, i) => {
          const expected = (w / total) * n;
          // Five binomial standard deviations: a fair hash fails this about once in 3.5 million.
          const sd = Math.sqrt(n * (w / total) * (1 - w / total));
          expect(Math.abs((counts.get(`v${i}`) ?? 0) - expected)).toBeLessThan(5 * sd);
        });
      }),
      { numRuns: 15 },
    );
  });

  it('depends on the step as well as the enrollment', () => {
    const points = new Set(['a', 'b', 'c'].map((stepId) => assignmentPoint('3f1c0c8e-0000-4000-8000-000000000001', stepId)));
    expect(points.size).toBe(3);
  });

  it('keeps a stored assignment, else gives the winner, else picks by weight', () => {
    const s = step([{ id: 'a' }, { id: 'b' }]);
    expect(assignVariant(s, 'e1', { stored: 'b', winner: 'a' })).toEqual({ variantId: 'b', by: 'stored' });
    expect(assignVariant(s, 'e1', { winner: 'a' })).toEqual({ variantId: 'a', by: 'winner' });
    // A winner that is no variant of this version (it was renamed) falls back to the weights.
    expect(assignVariant(s, 'e1', { winner: 'gone' })!.by).toBe('weight');
    expect(assignVariant({ ...s, variants: undefined }, 'e1')).toBeUndefined();
  });

  it('picks at the edges of the weight line', () => {
    const variants = [{ id: 'a', weight: 1 }, { id: 'b', weight: 3 }];
    expect(pickByWeight(variants, 0).id).toBe('a');
    expect(pickByWeight(variants, 0.2499).id).toBe('a');
    expect(pickByWeight(variants, 0.25).id).toBe('b');
    expect(pickByWeight(variants, 0.999999).id).toBe('b');
    expect(describeSplit(variants)).toBe('a 25 %, b 75 %');
  });

  it("writes the step as the variant says, falling back to the step's fields", () => {
    const s = step([{ id: 'a', subject: 'Subject A' }, { id: 'b', body: 'Body B' }]);
    expect(applyVariant(s, 'a')).toMatchObject({ subject: 'Subject A', body: 'Hi', variants: undefined });
    expect(applyVariant(s, 'b')).toMatchObject({ subject: 'Hello', body: 'Body B' });
    expect(applyVariant(s, undefined)).toBe(s);
  });
});

describe('variant validation', () => {
  const definition = (variants: unknown, extra: Record<string, unknown> = {}) => ({
    name: 'AB',
    steps: [{ id: 'intro', type: 'email', subject: 'Hello', body: 'Hi', variants, ...extra }, { id: 'text', type: 'sms', text: 'Hi', variants: [{ id: 'x', text: 'X' }, { id: 'y' }] }],
  });
  const problems = (input: unknown) => {
    const result = validateDefinition(input);
    return result.ok ? [] : result.problems;
  };

  it('accepts 2–10 variants with unique ids and positive weights, on email and SMS', () => {
    expect(problems(definition([{ id: 'a', subject: 'A' }, { id: 'b', weight: 2.5, body: 'B' }], { abTest: { autoWinner: {} } }))).toEqual([]);
    const ok = validateDefinition(definition([{ id: 'a' }, { id: 'b' }], { abTest: { autoWinner: {} } }));
    expect(ok.ok && ok.definition.steps[0]).toMatchObject({ abTest: { autoWinner: { minDeliveriesPerVariant: 100, confidence: 0.95 } } });
  });

  it('rejects duplicate ids, a zero weight, one variant, eleven, an unknown field', () => {
    expect(problems(definition([{ id: 'a' }, { id: 'a' }]))).toEqual([expect.objectContaining({ path: '$.steps[0].variants[1].id', message: expect.stringContaining('unique') })]);
    expect(problems(definition([{ id: 'a', weight: 0 }, { id: 'b' }]))[0]).toMatchObject({ path: '$.steps[0].variants[0].weight' });
    expect(problems(definition([{ id: 'a' }]))[0]).toMatchObject({ path: '$.steps[0].variants', message: expect.stringContaining('at least 2') });
    expect(problems(definition(Array.from({ length: 11 }, (_, i) => ({ id: `v${i}` }))))[0]).toMatchObject({ message: expect.stringContaining('at most 10') });
    expect(problems(definition([{ id: 'a', text: 'sms text on an email' }, { id: 'b' }]))[0]).toMatchObject({ path: '$.steps[0].variants[0].text' });
  });

  it("holds each variant's templates to the sandbox limits", () => {
    const found = problems(definition([{ id: 'a', body: '{% include "secrets" %}' }, { id: 'b', subject: '{{ lead.firstName ' }]));
    expect(found.map((p) => p.path)).toEqual(expect.arrayContaining(['$.steps[0].variants[0].body', '$.steps[0].variants[1].subject']));
  });

  it('says an abTest without variants has nothing to test', () => {
    expect(problems(definition(undefined, { abTest: { autoWinner: {} } }))).toEqual([
      expect.objectContaining({ path: '$.steps[0].abTest', message: expect.stringContaining('needs "variants"') }),
    ]);
  });
});
