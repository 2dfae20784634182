/** Re-wiring the step graph: a way pointed at another step, a step moved onto an edge or up and down the list. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateDefinition } from '../../src/core/validate.ts';
import type { SequenceDefinition, Step } from '../../web/src/api/types.ts';
import { EMPTY_DEFINITION, edgesOf } from '../../web/src/sequences/model.ts';
import { moveStep, relink, wayOfEdge, waysOf, type Way } from '../../web/src/sequences/rewire.ts';

const ids = (d: SequenceDefinition) => d.steps.map((s) => s.id);
const valid = (d: SequenceDefinition) => {
  const result = validateDefinition(d);
  return result.ok ? 'valid' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
};
/** Every way of the graph as `from:way→to`, the fall-through included. */
const ways = (d: SequenceDefinition) => {
  const byId = new Map(d.steps.map((s) => [s.id, s]));
  return edgesOf(d)
    .map((e) => `${e.from}:${wayOfEdge(byId.get(e.from)!, e)}→${e.to}`)
    .sort();
};
const withSteps = (steps: Step[]): SequenceDefinition => ({ ...EMPTY_DEFINITION, steps });

/** intro → check (opened? then wait, else call) → wait → nudge → done; call → done. */
const BRANCHED = withSteps([
  { id: 'intro', type: 'email', subject: 's', body: 'b' },
  { id: 'check', type: 'branch', when: { event: 'email.opened', step: 'intro' }, within: 'P1D', then: 'wait', else: 'call' },
  { id: 'wait', type: 'wait', duration: 'P1D' },
  { id: 'nudge', type: 'sms', text: 'hi', next: 'done' },
  { id: 'call', type: 'task', title: 'Call', outcomes: ['connected', 'no_answer'], routes: { connected: 'done' } },
  { id: 'done', type: 'end' },
]);

describe('relink: a way pointed at another step', () => {
  it('writes a next only where it differs from the step that follows', () => {
    const jumped = relink(EMPTY_DEFINITION, 'intro', 'next', 'follow-up');
    expect(jumped.steps[0]).toMatchObject({ id: 'intro', next: 'follow-up' });
    expect(valid(jumped)).toContain('pause'); // the validator says at once that `pause` is now unreachable
    const back = relink(jumped, 'intro', 'next', 'pause');
    expect(back.steps[0]).not.toHaveProperty('next');
    expect(valid(back)).toBe('valid');
  });

  it("sets a branch's then or else, and a task outcome's route", () => {
    const elsewhere = relink(BRANCHED, 'check', 'else', 'nudge');
    expect(elsewhere.steps[1]).toMatchObject({ then: 'wait', else: 'nudge' });
    const routed = relink(BRANCHED, 'call', 'route:no_answer', 'intro');
    expect(routed.steps[4]).toMatchObject({ routes: { connected: 'done', no_answer: 'intro' } });
    expect(ways(routed)).toContain('call:route:no_answer→intro');
  });

  it('leaves the definition alone for a way the step lacks, a missing step, or the same target', () => {
    expect(relink(BRANCHED, 'intro', 'then', 'done')).toBe(BRANCHED);
    expect(relink(BRANCHED, 'intro', 'next', 'nowhere')).toBe(BRANCHED);
    expect(relink(BRANCHED, 'nowhere', 'next', 'done')).toBe(BRANCHED);
    expect(relink(BRANCHED, 'intro', 'next', 'check')).toBe(BRANCHED);
    expect(relink(BRANCHED, 'done', 'next', 'intro')).toBe(BRANCHED);
  });
});

describe("moveStep by index: the list's ↑/↓", () => {
  it('swaps neighbours in a plain list without writing any next', () => {
    const down = moveStep(EMPTY_DEFINITION, 'intro', { index: 1 });
    expect(ids(down)).toEqual(['pause', 'intro', 'follow-up', 'done']);
    expect(down.steps.some((s) => 'next' in s)).toBe(false);
    const up = moveStep(down, 'intro', { index: 0 });
    expect(up).toEqual(EMPTY_DEFINITION);
  });

  it('re-wires around a written next, so the rest of the path keeps its shape', () => {
    // nudge jumps to done over call; moving nudge up before wait keeps that jump and closes the gap.
    const moved = moveStep(BRANCHED, 'nudge', { index: 2 });
    expect(ids(moved)).toEqual(['intro', 'check', 'nudge', 'wait', 'call', 'done']);
    expect(ways(moved)).toEqual(
      ['intro:next→check', 'check:then→wait', 'check:else→call', 'wait:next→done', 'nudge:next→wait', 'call:route:connected→done', 'call:next→done'].sort(),
    );
  });

  it('moves an end without losing what led into it', () => {
    const moved = moveStep(BRANCHED, 'done', { index: 3 });
    expect(ids(moved)).toEqual(['intro', 'check', 'wait', 'done', 'nudge', 'call']);
    expect(ways(moved)).toEqual(expect.arrayContaining(['wait:next→done', 'nudge:next→done', 'call:route:connected→done', 'call:next→done']));
  });

  it('does nothing past either end of the list', () => {
    expect(moveStep(EMPTY_DEFINITION, 'intro', { index: -1 })).toBe(EMPTY_DEFINITION);
    expect(moveStep(EMPTY_DEFINITION, 'done', { index: 4 })).toBe(EMPTY_DEFINITION);
    expect(moveStep(EMPTY_DEFINITION, 'missing', { index: 1 })).toBe(EMPTY_DEFINITION);
  });
});

describe('moveStep onto an edge: a drag in the graph', () => {
  it('puts the step between the two ends of the edge and closes the gap it left', () => {
    const moved = moveStep(EMPTY_DEFINITION, 'follow-up', { after: 'intro', way: 'next' });
    expect(ids(moved)).toEqual(['intro', 'follow-up', 'pause', 'done']);
    expect(moved.steps.some((s) => 'next' in s)).toBe(false);
    expect(valid(moved)).toBe('valid');
  });

  it("onto a branch's else way: the branch leads into it and it goes on where else went", () => {
    const moved = moveStep(BRANCHED, 'wait', { after: 'check', way: 'else' });
    expect(ids(moved)).toEqual(['intro', 'check', 'wait', 'nudge', 'call', 'done']);
    expect(ways(moved)).toEqual(
      ['intro:next→check', 'check:then→nudge', 'check:else→wait', 'wait:next→call', 'nudge:next→done', 'call:route:connected→done', 'call:next→done'].sort(),
    );
    expect(valid(moved)).toBe('valid');
  });

  it("onto a task outcome without a route: the outcome gets one, into the step, which goes on by the task's next", () => {
    const moved = moveStep(BRANCHED, 'nudge', { after: 'call', way: 'route:no_answer' });
    expect(moved.steps.find((s) => s.id === 'call')).toMatchObject({ routes: { connected: 'done', no_answer: 'nudge' } });
    expect(moved.steps.find((s) => s.id === 'nudge')).toMatchObject({ next: 'done' });
    expect(ways(moved)).toContain('wait:next→done');
  });

  it('a moved branch goes on by then to where the edge went; its else stays', () => {
    const moved = moveStep(BRANCHED, 'check', { after: 'wait', way: 'next' });
    expect(moved.steps.find((s) => s.id === 'check')).toMatchObject({ then: 'nudge', else: 'call' });
    expect(ways(moved)).toContain('intro:next→wait');
    expect(ways(moved)).toContain('wait:next→check');
  });

  it('changes nothing onto a way of the step itself or of a missing step', () => {
    expect(moveStep(BRANCHED, 'check', { after: 'check', way: 'then' })).toBe(BRANCHED);
    expect(moveStep(BRANCHED, 'wait', { after: 'nowhere', way: 'next' })).toBe(BRANCHED);
    expect(moveStep(BRANCHED, 'wait', { after: 'intro', way: 'else' })).toBe(BRANCHED);
  });

  it('keeps every way that neither touches the moved step nor is the one it lands on', () => {
    const stepIds = BRANCHED.steps.map((s) => s.id);
    const places = BRANCHED.steps.flatMap((s) => waysOf(s).map((way) => ({ after: s.id, way })));
    fc.assert(
      fc.property(fc.constantFrom(...stepIds), fc.constantFrom(...places), (moving, place: { after: string; way: Way }) => {
        const before = ways(BRANCHED).filter((w) => !w.includes(moving) && !w.startsWith(`${place.after}:${place.way}→`));
        const after = ways(moveStep(BRANCHED, moving, place));
        for (const way of before) expect(after).toContain(way);
        // …and the way it landed on leads into it.
        if (place.after !== moving) expect(after).toContain(`${place.after}:${place.way}→${moving}`);
      }),
    );
  });
});
