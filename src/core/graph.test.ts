/** The step graph's edges: one statement that validation walks and the dashboard draws. */
import { describe, expect, it } from 'vitest';
import { edgesOf, linksOf, stepEdges } from './graph.ts';
import { reachableStepIds } from './validateGraph.ts';
import { designExample } from './validate.fixtures.ts';
import { validateDefinition } from './validate.ts';

describe('step edges', () => {
  it('follow array order, next, a branch only to then/else, a task along its routes and onward', () => {
    expect(stepEdges({ id: 'a', type: 'email' }, 'b')).toEqual([{ from: 'a', to: 'b' }]);
    expect(stepEdges({ id: 'a', type: 'wait', next: 'z' }, 'b')).toEqual([{ from: 'a', to: 'z', label: 'next' }]);
    expect(stepEdges({ id: 'a', type: 'branch', then: 'x', else: 'y', next: 'z' }, 'b')).toEqual([
      { from: 'a', to: 'x', label: 'then' },
      { from: 'a', to: 'y', label: 'else' },
    ]);
    expect(stepEdges({ id: 'a', type: 'task', routes: [['skipped', 'z']] }, 'b')).toEqual([
      { from: 'a', to: 'z', label: 'skipped' },
      { from: 'a', to: 'b' },
    ]);
    expect(stepEdges({ id: 'a', type: 'end', next: 'z' }, 'b')).toEqual([]);
    expect(stepEdges({ id: 'a', type: 'sms' }, undefined)).toEqual([]);
  });

  it('read a draft leniently: targets that are not step ids yet are left out, unknown steps have none', () => {
    expect(linksOf({ id: 'a', type: 'branch', then: 3, else: '' })).toEqual({ id: 'a', type: 'branch' });
    expect(linksOf({ id: 'a', type: 'task', routes: { done: 'b', skipped: null } })).toEqual({ id: 'a', type: 'task', routes: [['done', 'b']] });
    expect(linksOf({ id: 'a', type: 'fax' })).toBeUndefined();
    expect(linksOf('a')).toBeUndefined();
    expect(edgesOf([{ type: 'email' }, { id: 'b', type: 'email' }, { id: 'c', type: 'end' }])).toEqual([{ from: 'b', to: 'c' }]);
  });

  it('reach exactly the steps validation counts as reachable', () => {
    const result = validateDefinition(designExample);
    if (!result.ok) throw new Error('the design example is valid');
    const steps = result.definition.steps;
    const seen = new Set([steps[0]!.id]);
    const edges = edgesOf(steps);
    for (let grew = true; grew; ) {
      grew = false;
      for (const edge of edges) if (seen.has(edge.from) && !seen.has(edge.to)) (seen.add(edge.to), (grew = true));
    }
    expect([...seen].sort()).toEqual([...reachableStepIds(result.definition)].sort());
  });
});
