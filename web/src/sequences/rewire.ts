/**
 * Re-wiring the step graph, pure: pointing one of a step's ways at another step (a drag from a
 * handle in the graph, or a target picked in the form) and moving a step to another place (a
 * drag onto an edge in the graph, or the list's ↑/↓). Both go through one model of the ways —
 * every way written out, the array's fall-through included — and back to the smallest document
 * that says the same: a `next` is written only where it differs from the step that follows
 * (or was written before and still points where it did).
 */
import type { SequenceDefinition, Step } from '../api/types.ts';
import type { Edge as StepEdge } from './model.ts';

/**
 * One way out of a step, as a graph handle names it: `next` (written or the fall-through to the
 * following step), a branch's `then` or `else`, a task's `route:<outcome>`.
 */
export type Way = 'next' | 'then' | 'else' | `route:${string}`;

const ROUTE = 'route:';

/** The ways a step has, in the order the graph draws its handles. */
export function waysOf(step: Step): Way[] {
  if (step.type === 'end') return [];
  if (step.type === 'branch') return ['then', 'else'];
  if (step.type !== 'task') return ['next'];
  const routed = Object.keys(routesOf(step));
  return [...[...new Set([...outcomesOf(step), ...routed])].map((o): Way => `${ROUTE}${o}`), 'next'];
}

/** The way an edge of src/core/graph.ts leaves its step by. */
export function wayOfEdge(step: Step, edge: StepEdge): Way {
  if (step.type === 'branch' && (edge.label === 'then' || edge.label === 'else')) return edge.label;
  if (step.type === 'task' && edge.label !== undefined && edge.label !== 'next') return `${ROUTE}${edge.label}`;
  return 'next';
}

/** A person's words for a way, for handles and their titles. */
export function wayLabel(way: Way): string {
  return way.startsWith(ROUTE) ? way.slice(ROUTE.length) : way;
}

/** A task's outcomes as written, without blanks. */
export function outcomesOf(step: Step): string[] {
  return Array.isArray(step.outcomes) ? step.outcomes.filter((o): o is string => typeof o === 'string' && o !== '') : [];
}

/** A task's jumps per outcome, those that name a step. */
export function routesOf(step: Step): Record<string, string> {
  const routes = step.routes;
  if (!routes || typeof routes !== 'object' || Array.isArray(routes)) return {};
  return Object.fromEntries(Object.entries(routes).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Where each of a step's ways goes, written out; `next` is the fall-through when not written. */
type Targets = Map<Way, string | undefined>;

function targetsOf(step: Step, following: Step | undefined): Targets {
  const targets: Targets = new Map();
  if (step.type === 'end') return targets;
  if (step.type === 'branch') {
    targets.set('then', typeof step.then === 'string' ? step.then : undefined);
    targets.set('else', typeof step.else === 'string' ? step.else : undefined);
    return targets;
  }
  for (const [outcome, to] of Object.entries(routesOf(step))) targets.set(`${ROUTE}${outcome}`, to);
  targets.set('next', typeof step.next === 'string' && step.next !== '' ? step.next : following?.id);
  return targets;
}

/** The way a step continues by when it is taken out of a path or put into one: a branch's `then`, otherwise `next`. */
const mainWay = (step: Step): Way | undefined => (step.type === 'end' ? undefined : step.type === 'branch' ? 'then' : 'next');

interface Wired {
  step: Step;
  targets: Targets;
}

function wire(steps: readonly Step[]): Wired[] {
  return steps.map((step, i) => ({ step, targets: targetsOf(step, steps[i + 1]) }));
}

/** Back to steps in this order: each way as the smallest document says it. */
function unwire(order: Wired[], before: ReadonlyMap<Step, Targets>): Step[] {
  return order.map(({ step, targets }, i) => {
    if (step.type === 'end') return step;
    const out: Step = { ...step };
    if (step.type === 'branch') {
      for (const way of ['then', 'else'] as const) {
        const to = targets.get(way);
        if (to === undefined) delete out[way];
        else out[way] = to;
      }
      return out;
    }
    const following = order[i + 1]?.step.id;
    const to = targets.get('next');
    const wasWritten = typeof step.next === 'string' && step.next !== '';
    if (to === undefined || (to === following && !(wasWritten && before.get(step)?.get('next') === to))) delete out.next;
    else out.next = to;
    const routes: Record<string, string> = {};
    for (const [way, target] of targets) if (way.startsWith(ROUTE) && target !== undefined) routes[way.slice(ROUTE.length)] = target;
    if (Object.keys(routes).length > 0) out.routes = routes;
    else delete out.routes;
    return out;
  });
}

function snapshot(wired: Wired[]): Map<Step, Targets> {
  return new Map(wired.map((w) => [w.step, new Map(w.targets)]));
}

const stepsOf = (definition: SequenceDefinition): Step[] => (Array.isArray(definition.steps) ? definition.steps : []);

/**
 * Points one way of step `from` at step `to`. A way the step does not have (a `then` on an
 * email) or a step that is not there leaves the definition as it is.
 */
export function relink(definition: SequenceDefinition, from: string, way: Way, to: string): SequenceDefinition {
  const steps = stepsOf(definition);
  const wired = wire(steps);
  const source = wired.find((w) => w.step.id === from);
  if (!source || !steps.some((s) => s.id === to) || !waysOf(source.step).includes(way)) return definition;
  if (source.targets.get(way) === to) return definition;
  const before = snapshot(wired);
  source.targets.set(way, to);
  return { ...definition, steps: unwire(wired, before) };
}

/**
 * Where a moved step goes: onto the way `way` out of step `after` (it then sits right after
 * that step in the list, the way leads into it and it continues where the way went), or to a
 * list position `index` (counted with the step already taken out, as the list's ↑/↓ do).
 */
export type Place = { after: string; way: Way } | { index: number };

/**
 * Moves a step, re-wiring around it: first it is taken out of the path (whatever led into it
 * goes where it went on), then put into the new place (what led there leads into it, and it
 * goes on where that led). A branch goes on by its `then`; its `else` stays. An `end` has no way
 * on, so what led into it still does. Moving a step onto one of its own ways, or nowhere new,
 * changes nothing.
 */
export function moveStep(definition: SequenceDefinition, id: string, place: Place): SequenceDefinition {
  const steps = stepsOf(definition);
  const wired = wire(steps);
  const at = wired.findIndex((w) => w.step.id === id);
  if (at < 0) return definition;
  const moved = wired[at]!;
  if ('after' in place && (place.after === id || !wired.some((w) => w.step.id === place.after))) return definition;
  if ('index' in place && (place.index < 0 || place.index > steps.length - 1 || place.index === at)) return definition;
  const before = snapshot(wired);
  const own = mainWay(moved.step);
  const onward = own ? moved.targets.get(own) : undefined;

  // Out of the path: what led into the step goes where it went on.
  if (onward !== undefined && onward !== id) {
    for (const w of wired) {
      if (w === moved) continue;
      for (const [way, to] of w.targets) if (to === id) w.targets.set(way, onward);
    }
  }
  const order = wired.filter((w) => w !== moved);

  // Into the new place.
  let index: number;
  let into: { wired: Wired; way: Way } | undefined;
  if ('after' in place) {
    const host = order.find((w) => w.step.id === place.after)!;
    if (!waysOf(host.step).includes(place.way)) return definition;
    index = order.indexOf(host) + 1;
    into = { wired: host, way: place.way };
  } else {
    index = place.index;
    const previous = order[index - 1];
    // The step before the new place leads into it only if it fell through to the step now after it.
    if (previous && previous.targets.get('next') === order[index]?.step.id && mainWay(previous.step) === 'next') into = { wired: previous, way: 'next' };
  }
  // Where the way went: an outcome without a route of its own goes on by `next`.
  const led = (into && (into.wired.targets.get(into.way) ?? into.wired.targets.get('next'))) ?? order[index]?.step.id;
  if (into) into.wired.targets.set(into.way, id);
  if (own && led !== undefined && led !== id) moved.targets.set(own, led);
  order.splice(index, 0, moved);
  return { ...definition, steps: unwire(order, before) };
}
