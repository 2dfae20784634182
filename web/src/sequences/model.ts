/** Pure helpers over a sequence definition: edges for the graph, problems per step, new steps. */
import { STEP_TYPES } from '../../../src/core/definition.ts';
import { edgesOf as stepGraphEdges, type StepEdge } from '../../../src/core/graph.ts';
import type { Problem, SequenceDefinition, Step } from '../api/types.ts';

export { STEP_TYPES };
export type Edge = StepEdge;

/** Where control can go from each step, as validation sees it (src/core/graph.ts). */
export function edgesOf(definition: SequenceDefinition): Edge[] {
  return stepGraphEdges(definition.steps ?? []);
}

/** The step index a JSON path such as `$.steps[2].then` points at, if any. */
export function stepIndexOf(path: string): number | null {
  const m = /^\$\.steps\[(\d+)\]/.exec(path);
  return m ? Number(m[1]) : null;
}

export function problemsByStep(definition: SequenceDefinition, problems: Problem[]): Map<string, Problem[]> {
  const map = new Map<string, Problem[]>();
  for (const p of problems) {
    const index = stepIndexOf(p.path);
    const id = index === null ? '$' : (definition.steps?.[index]?.id ?? `#${index}`);
    map.set(id, [...(map.get(id) ?? []), p]);
  }
  return map;
}

export function newStep(type: Step['type'], existing: Step[]): Step {
  let n = existing.length + 1;
  while (existing.some((s) => s.id === `${type}${n}`)) n++;
  const id = `${type}${n}`;
  const fallback = existing[0]?.id ?? id;
  switch (type) {
    case 'email':
      return { id, type, subject: 'Quick question, {{ lead.firstName | default: "there" }}', body: 'Hi {{ lead.firstName | default: "there" }},\n\n' };
    case 'sms':
      return { id, type, text: 'Hi {{ lead.firstName | default: "there" }}, ' };
    case 'voice':
      return { id, type, script: 'Hi {{ lead.firstName | default: "there" }}, ', voicemail: '' };
    case 'wait':
      return { id, type, duration: 'P1D', businessDays: false };
    case 'branch':
      return { id, type, when: { event: 'email.opened' }, within: 'P1D', then: fallback, else: fallback };
    case 'task':
      return { id, type, title: 'Connect on LinkedIn', outcomes: ['done', 'skipped'] };
    case 'end':
      return { id, type };
  }
}

export const EMPTY_DEFINITION: SequenceDefinition = {
  name: 'New sequence',
  schedule: { timezone: 'lead', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
  steps: [
    { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName | default: "there" }}', body: 'Hi {{ lead.firstName | default: "there" }},\n\n…' },
    { id: 'pause', type: 'wait', duration: 'P2D', businessDays: true },
    { id: 'follow-up', type: 'task', title: 'Call {{ lead.firstName | default: "the lead" }}', outcomes: ['done', 'skipped'] },
    { id: 'done', type: 'end' },
  ],
};

/**
 * A layered layout: each step sits one row below the first step that leads to it (breadth
 * first from the start), so a branch's two ways sit side by side. Unreached steps go last.
 */
export function layout(definition: SequenceDefinition): Map<string, { row: number; column: number }> {
  const steps = definition.steps ?? [];
  const edges = edgesOf(definition);
  const row = new Map<string, number>();
  const first = steps[0]?.id;
  if (first) row.set(first, 0);
  const queue = first ? [first] : [];
  while (queue.length) {
    const id = queue.shift()!;
    for (const e of edges) {
      if (e.from === id && !row.has(e.to) && steps.some((s) => s.id === e.to)) {
        row.set(e.to, row.get(id)! + 1);
        queue.push(e.to);
      }
    }
  }
  let last = Math.max(-1, ...row.values());
  for (const s of steps) if (!row.has(s.id)) row.set(s.id, ++last);
  const used = new Map<number, number>();
  const out = new Map<string, { row: number; column: number }>();
  for (const s of steps) {
    const r = row.get(s.id)!;
    const column = used.get(r) ?? 0;
    used.set(r, column + 1);
    out.set(s.id, { row: r, column });
  }
  return out;
}
