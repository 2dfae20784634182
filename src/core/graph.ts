/**
 * Where control can go from each step of a sequence: the one statement of the step graph's
 * edges. Validation walks them for reachability and loops (validateGraph.ts); the dashboard
 * draws them (web/src/sequences/model.ts), so the picture cannot disagree with the checks.
 */
import { STEP_TYPES, type StepType } from './definition.ts';

/** The parts of a step that say where it goes. */
export interface StepLinks {
  id: string;
  type: StepType;
  next?: string;
  then?: string;
  else?: string;
  /** A task's jumps per recorded outcome. */
  routes?: ReadonlyArray<readonly [outcome: string, target: string]>;
}

export interface StepEdge {
  from: string;
  to: string;
  /** A branch's `then`/`else`, a task route's outcome, `next` when written out; none for array order. */
  label?: string;
}

/**
 * Array order unless `end` or `next`; a branch only to `then` and `else`; a task along its
 * routes and then onward (an outcome without a route continues in order).
 */
export function stepEdges(step: StepLinks, following: string | undefined): StepEdge[] {
  const from = step.id;
  if (step.type === 'end') return [];
  if (step.type === 'branch') {
    const edges: StepEdge[] = [];
    if (step.then !== undefined) edges.push({ from, to: step.then, label: 'then' });
    if (step.else !== undefined) edges.push({ from, to: step.else, label: 'else' });
    return edges;
  }
  const edges: StepEdge[] = step.type === 'task' ? (step.routes ?? []).map(([outcome, to]) => ({ from, to, label: outcome })) : [];
  const onward = step.next ?? following;
  if (onward !== undefined) edges.push(step.next === undefined ? { from, to: onward } : { from, to: onward, label: 'next' });
  return edges;
}

const isStepType = (value: string): value is StepType => (STEP_TYPES as readonly string[]).includes(value);
const target = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The links of a step as a document holds it, or undefined without an id or a known type.
 * Lenient on purpose: a draft in the editor holds whatever is being typed, and validation
 * (not this) says what is wrong with it.
 */
export function linksOf(raw: unknown): StepLinks | undefined {
  if (!isRecord(raw) || typeof raw.id !== 'string' || typeof raw.type !== 'string' || !isStepType(raw.type)) return undefined;
  const links: StepLinks = { id: raw.id, type: raw.type };
  for (const field of ['next', 'then', 'else'] as const) {
    const to = target(raw[field]);
    if (to !== undefined) links[field] = to;
  }
  if (isRecord(raw.routes)) {
    links.routes = Object.entries(raw.routes).flatMap(([outcome, to]) => (target(to) === undefined ? [] : [[outcome, to as string] as const]));
  }
  return links;
}

/** Every edge of a document's steps, in step order; steps without an id or a known type have none. */
export function edgesOf(steps: readonly unknown[]): StepEdge[] {
  return steps.flatMap((raw, index) => {
    const links = linksOf(raw);
    const following = steps[index + 1];
    return links ? stepEdges(links, isRecord(following) && typeof following.id === 'string' ? following.id : undefined) : [];
  });
}
