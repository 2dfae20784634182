/** The builder's edits: insert after the selected step and re-wire, branch defaults, templates, undo/redo. */
import { describe, expect, it } from 'vitest';
import { validateDefinition } from '../../src/core/validate.ts';
import type { SequenceDefinition } from '../../web/src/api/types.ts';
import { insertStepAfter, record, redo, startHistory, TEMPLATES, undo } from '../../web/src/sequences/builder.ts';
import { EMPTY_DEFINITION } from '../../web/src/sequences/model.ts';

const ids = (d: SequenceDefinition) => d.steps.map((s) => s.id);
const valid = (d: SequenceDefinition) => {
  const result = validateDefinition(d);
  return result.ok ? 'valid' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
};

describe('inserting a step', () => {
  it('goes right after the selected step and stays reachable', () => {
    const { definition, id } = insertStepAfter(EMPTY_DEFINITION, 'intro', 'sms');
    expect(ids(definition)).toEqual(['intro', id, 'pause', 'follow-up', 'done']);
    expect(valid(definition)).toBe('valid');
  });

  it('goes before the final end when the end (or nothing) is selected', () => {
    for (const selected of ['done', null]) {
      const { definition, id } = insertStepAfter(EMPTY_DEFINITION, selected, 'email');
      expect(ids(definition)).toEqual(['intro', 'pause', 'follow-up', id, 'done']);
      expect(valid(definition)).toBe('valid');
    }
  });

  it('takes over an explicit next', () => {
    const start: SequenceDefinition = {
      ...EMPTY_DEFINITION,
      steps: [
        { id: 'a', type: 'email', subject: 's', body: 'b', next: 'z' },
        { id: 'skipped', type: 'task', title: 't' },
        { id: 'z', type: 'end' },
      ],
    };
    const { definition, id } = insertStepAfter(start, 'a', 'wait');
    expect(definition.steps[0]).toMatchObject({ id: 'a', next: id });
    expect(definition.steps[1]).toMatchObject({ id, next: 'z' });
  });

  it('gives a new branch sensible ways: on after the email it watches, else to the end', () => {
    const { definition, id } = insertStepAfter(EMPTY_DEFINITION, 'intro', 'branch');
    expect(definition.steps[1]).toMatchObject({ id, type: 'branch', when: { event: 'email.opened', step: 'intro' }, then: 'pause', else: 'done' });
    expect(valid(definition)).toBe('valid');
  });

  it("after a branch, takes over the branch's then way", () => {
    const withBranch = insertStepAfter(EMPTY_DEFINITION, 'intro', 'branch');
    const { definition, id } = insertStepAfter(withBranch.definition, withBranch.id, 'sms');
    expect(definition.steps.find((s) => s.id === withBranch.id)).toMatchObject({ then: id, else: 'done' });
    expect(ids(definition).slice(2, 4)).toEqual([id, 'pause']); // and on, in order, to where `then` went
    expect(valid(definition)).toBe('valid');
  });
});

describe('templates', () => {
  it.each(TEMPLATES.map((t) => [t.label, t.definition] as const))('%s is valid as it stands', (_label, definition) => {
    expect(valid(definition)).toBe('valid');
  });
});

describe('undo and redo', () => {
  it('walks back and forth and forgets the future on a new edit', () => {
    let h = startHistory(1);
    h = record(h, 2);
    h = record(h, 3);
    h = undo(h);
    expect(h.present).toBe(2);
    h = undo(undo(h));
    expect(h.present).toBe(1);
    h = redo(h);
    expect(h.present).toBe(2);
    h = record(h, 9);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
  });
});
