/**
 * The step graph and the checks that need it: duplicate ids, dangling targets, unreachable
 * steps, loops that would repeat without pause. Built from the raw document (not the zod
 * output) so it still runs when unrelated fields such as the schedule are broken.
 */
import { Duration } from 'luxon';
import { isIsoDuration, MIN_LOOP_PAUSE_MS, type SequenceDefinition, type StepType } from './definition.ts';
import { stepEdges } from './graph.ts';
import { isRecord, listOf, own, problem, quote, type Problem } from './validateFormat.ts';
import { isStepId, isStepType } from './validateSteps.ts';

export interface StepNode {
  index: number;
  id: string;
  type: StepType;
  next?: string;
  then?: string;
  else?: string;
  routes: Array<[outcome: string, target: string]>;
  /** `when.event` / `when.step` of a branch, when they are strings. */
  event?: string;
  eventStep?: string;
  /** `when.reply` of a branch as a list (the strings among it). */
  replyClasses?: string[];
  /** True when running the step can hold the enrollment, so a loop through it cannot spin. */
  pauses: boolean;
  /** A wait's duration, a branch's `within` (its `else` path only), in ms; unparseable: Infinity. */
  delayMs: number;
  /** An email step without a subject: it replies in the thread of the previous email. */
  threaded?: boolean;
}

/** At least how long a duration lasts, in ms (a month as 30 days; a bad one is reported elsewhere). */
function delayOf(duration: unknown): number {
  if (typeof duration !== 'string' || !isIsoDuration(duration)) return Infinity;
  return Duration.fromISO(duration).toMillis();
}

/** A duration that fails to parse is reported elsewhere; counting it as a pause avoids a pile-up. */
function holds(duration: unknown): boolean {
  if (typeof duration !== 'string' || !isIsoDuration(duration)) return true;
  return Duration.fromISO(duration).toMillis() > 0;
}

/** The graph skeleton of one step, or undefined when its id, type or targets are unusable. */
export function toStepNode(raw: unknown, index: number): StepNode | undefined {
  if (!isRecord(raw)) return undefined;
  const id = own(raw, 'id');
  const type = own(raw, 'type');
  const next = own(raw, 'next');
  if (!isStepId(id) || !isStepType(type) || (next !== undefined && !isStepId(next))) return undefined;
  const node: StepNode = { index, id, type, routes: [], pauses: type === 'task', delayMs: 0 };
  if (next !== undefined) node.next = next;
  if (type === 'email') {
    const subject = own(raw, 'subject');
    node.threaded = subject === undefined || (typeof subject === 'string' && subject.trim() === '');
  }
  if (type === 'wait') {
    node.pauses = holds(own(raw, 'duration'));
    node.delayMs = delayOf(own(raw, 'duration'));
  }
  if (type === 'branch') {
    const [then, otherwise] = [own(raw, 'then'), own(raw, 'else')];
    if (!isStepId(then) || !isStepId(otherwise)) return undefined;
    node.then = then;
    node.else = otherwise;
    node.pauses = holds(own(raw, 'within'));
    node.delayMs = delayOf(own(raw, 'within'));
    const when = own(raw, 'when');
    if (isRecord(when)) {
      const [event, step, reply] = [own(when, 'event'), own(when, 'step'), own(when, 'reply')];
      if (typeof event === 'string') node.event = event;
      if (typeof reply === 'string') node.replyClasses = [reply];
      else if (Array.isArray(reply)) node.replyClasses = reply.filter((r): r is string => typeof r === 'string');
      if (isStepId(step)) node.eventStep = step;
    }
  }
  if (type === 'task') {
    const routes = own(raw, 'routes');
    if (routes !== undefined && !isRecord(routes)) return undefined;
    for (const [outcome, target] of Object.entries(routes ?? {})) {
      if (!isStepId(target)) return undefined;
      node.routes.push([outcome, target]);
    }
  }
  return node;
}

/** Where a step can go next (graph.ts, which the dashboard draws too). */
function targets(node: StepNode, nodes: readonly StepNode[]): string[] {
  return stepEdges(node, nodes[node.index + 1]?.id).map((edge) => edge.to);
}

export function successorIndexes(nodes: readonly StepNode[]): number[][] {
  const byId = new Map<string, number>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node.index);
  return nodes.map((node) => [...new Set(targets(node, nodes).flatMap((id) => byId.get(id) ?? []))]);
}

function reachableIndexes(edges: readonly number[][]): Set<number> {
  const seen = new Set<number>(edges.length > 0 ? [0] : []);
  const queue = [...seen];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const next of edges[current] ?? []) if (!seen.has(next)) (seen.add(next), queue.push(next));
  }
  return seen;
}

/** Ids of the steps an enrollment can reach from the first step, in array order. */
export function reachableStepIds(definition: SequenceDefinition): string[] {
  const nodes = definition.steps.map((step, index) => toStepNode(step, index));
  if (nodes.some((node) => node === undefined)) return [];
  const usable = nodes as StepNode[];
  const reachable = reachableIndexes(successorIndexes(usable));
  return usable.filter((node) => reachable.has(node.index)).map((node) => node.id);
}

/** Tarjan's strongly connected components, iterative so a 200-step chain cannot blow the stack. */
function components(edges: readonly number[][], include: (i: number) => boolean): number[][] {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  const result: number[][] = [];
  let counter = 0;
  const inner = (i: number) => (edges[i] ?? []).filter(include);
  for (let root = 0; root < edges.length; root++) {
    if (!include(root) || index.has(root)) continue;
    const work: Array<[node: number, child: number]> = [[root, 0]];
    index.set(root, counter), low.set(root, counter++), stack.push(root), onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [node, child] = frame;
      const next = inner(node)[child];
      if (next !== undefined) {
        frame[1]++;
        if (!index.has(next)) {
          index.set(next, counter), low.set(next, counter++), stack.push(next), onStack.add(next);
          work.push([next, 0]);
        } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent[0], Math.min(low.get(parent[0])!, low.get(node)!));
      if (low.get(node) !== index.get(node)) continue;
      const component: number[] = [];
      for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
        onStack.delete(member), component.push(member);
        if (member === node) break;
      }
      result.push(component.sort((a, b) => a - b));
    }
  }
  return result;
}

/** The shortest way around a loop through `start`, for a message a person can follow. */
function cycleThrough(start: number, edges: readonly number[][], members: Set<number>): number[] {
  const parent = new Map<number, number>([[start, -1]]);
  const queue = [start];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const next of edges[current] ?? []) {
      if (next === start) {
        const path = [current];
        for (let p = parent.get(current)!; p !== -1; p = parent.get(p)!) path.unshift(p);
        return [...path, start];
      }
      if (members.has(next) && !parent.has(next)) (parent.set(next, current), queue.push(next));
    }
  }
  return [start, start];
}

function targetProblems(nodes: readonly StepNode[], ids: Set<string>): Problem[] {
  const known = listOf([...ids]);
  const missing = (field: string, target: string) =>
    `${field} points at step ${quote(target)}, which does not exist; known step ids: ${known}.`;
  const problems: Problem[] = [];
  for (const node of nodes) {
    const at = (...rest: string[]) => ['steps', node.index, ...rest];
    for (const field of ['next', 'then', 'else'] as const) {
      const target = node[field];
      if (target !== undefined && !ids.has(target)) problems.push(problem(at(field), missing(`"${field}"`, target)));
    }
    for (const [outcome, target] of node.routes) {
      if (!ids.has(target)) problems.push(problem(at('routes', outcome), missing(`Route ${quote(outcome)}`, target)));
    }
    if (node.eventStep !== undefined && !ids.has(node.eventStep)) {
      problems.push(problem(at('when', 'step'), missing('"step"', node.eventStep)));
    }
  }
  return problems;
}

/** Graph errors; reachability and loops are only judged once every target resolves. */
export function graphProblems(nodes: readonly StepNode[]): Problem[] {
  const problems: Problem[] = [];
  const firstIndex = new Map<string, number>();
  for (const node of nodes) {
    const first = firstIndex.get(node.id);
    if (first === undefined) firstIndex.set(node.id, node.index);
    else problems.push(problem(['steps', node.index, 'id'], `Step id ${quote(node.id)} is already used by steps[${first}]; give every step a unique id.`));
  }
  problems.push(...targetProblems(nodes, new Set(firstIndex.keys())));
  if (problems.length > 0) return problems;

  const edges = successorIndexes(nodes);
  const reachable = reachableIndexes(edges);
  const first = nodes[0]!;
  for (const node of nodes) {
    if (reachable.has(node.index)) continue;
    problems.push(problem(['steps', node.index], `Step ${quote(node.id)} can never be reached from the first step ${quote(first.id)}; point a "next", "then", "else" or task route at it, or remove it.`));
  }
  const spins = (i: number) => reachable.has(i) && !nodes[i]!.pauses;
  for (const component of components(edges, spins)) {
    const start = component[0]!;
    if (component.length === 1 && !(edges[start] ?? []).includes(start)) continue;
    const ids = cycleThrough(start, edges, new Set(component)).map((i) => quote(nodes[i]!.id));
    const loop = (ids.length > 12 ? [...ids.slice(0, 10), '…', ids[ids.length - 1]!] : ids).join(' → ');
    problems.push(problem(['steps', start], `Steps ${loop} form a loop with no wait; add a wait step or a branch with a positive "within" inside the loop, or it would repeat without pause.`));
  }
  if (problems.length === 0) problems.push(...resendProblems(nodes, reachable));
  problems.push(...threadProblems(nodes, edges));
  return problems;
}

/**
 * A subject-less email answers the enrollment's previous email, so every way to it from the
 * first step must pass an email first. The walk stops at each email step (past it a thread
 * exists); a subject-less email it still reaches could be the enrollment's first email.
 */
function threadProblems(nodes: readonly StepNode[], edges: readonly number[][]): Problem[] {
  const cameFrom = new Map<number, number | null>([[0, null]]);
  const queue = [0];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    if (nodes[current]!.type === 'email') continue;
    for (const next of edges[current] ?? []) if (!cameFrom.has(next)) (cameFrom.set(next, current), queue.push(next));
  }
  const problems: Problem[] = [];
  for (const [index] of cameFrom) {
    const node = nodes[index]!;
    if (!node.threaded) continue;
    const way: string[] = [];
    for (let at: number | null | undefined = index; at !== null && at !== undefined; at = cameFrom.get(at)) way.unshift(quote(nodes[at]!.id));
    const route = way.length > 1 ? ` (${way.join(' → ')})` : '';
    problems.push(
      problem(
        ['steps', node.index, 'subject'],
        `Email step ${quote(node.id)} has no subject, so it replies in the thread of the enrollment's previous email, but it can be the first email an enrollment sends${route}; give it a subject, or send an email with a subject before it.`,
      ),
    );
  }
  return problems;
}

const DELIVERY: readonly StepType[] = ['email', 'sms', 'voice'];

/**
 * Where a step can go next and the least time that passes on the way. A wait holds for its
 * duration; a branch goes to `then` as soon as its condition holds (at once, when the event
 * came on an earlier lap), so only its `else` path is sure to wait `within`; a task waits for
 * an operator every time, so no loop through one resends on its own (no edge).
 */
function timedEdges(node: StepNode, byId: Map<string, number>, nodes: readonly StepNode[]): Array<[to: number, ms: number]> {
  const at = (id: string | undefined) => (id === undefined ? undefined : byId.get(id));
  if (node.type === 'end' || node.type === 'task') return [];
  if (node.type === 'branch') {
    const edges: Array<[number, number]> = [];
    const then = at(node.then);
    const otherwise = at(node.else);
    if (then !== undefined) edges.push([then, 0]);
    if (otherwise !== undefined) edges.push([otherwise, node.delayMs]);
    return edges;
  }
  const following = at(node.next ?? nodes[node.index + 1]?.id);
  return following === undefined ? [] : [[following, node.type === 'wait' ? node.delayMs : 0]];
}

/** Minutes or seconds, the way a person would say a short pause. */
function spoken(ms: number): string {
  if (ms === 0) return 'no wait at all';
  if (ms < 60_000) return `${Math.round(ms / 1000)} second${Math.round(ms / 1000) === 1 ? '' : 's'}`;
  const minutes = Math.round(ms / 60_000);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Loops that could send to the same lead again within minutes (email → wait PT1S → back):
 * the shortest lap through each delivery step must wait `MIN_LOOP_PAUSE_MS` in total.
 */
function resendProblems(nodes: readonly StepNode[], reachable: Set<number>): Problem[] {
  const byId = new Map<string, number>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node.index);
  const edges = nodes.map((node) => timedEdges(node, byId, nodes));
  const problems: Problem[] = [];
  const reported = new Set<string>();
  for (const start of nodes) {
    if (!DELIVERY.includes(start.type) || !reachable.has(start.index)) continue;
    // Dijkstra from the step back to itself; ≤ 200 steps, so a plain scan for the minimum.
    const dist = new Array<number>(nodes.length).fill(Infinity);
    const prev = new Array<number>(nodes.length).fill(-1);
    const done = new Array<boolean>(nodes.length).fill(false);
    for (const [to, ms] of edges[start.index]!) if (ms < dist[to]!) (dist[to] = ms, prev[to] = start.index);
    for (;;) {
      let u = -1;
      for (let i = 0; i < nodes.length; i++) if (!done[i] && dist[i]! < Infinity && (u === -1 || dist[i]! < dist[u]!)) u = i;
      if (u === -1 || u === start.index) break;
      done[u] = true;
      for (const [to, ms] of edges[u]!) if (dist[u]! + ms < dist[to]!) (dist[to] = dist[u]! + ms, prev[to] = u);
    }
    const lap = dist[start.index]!;
    if (lap >= MIN_LOOP_PAUSE_MS) continue;
    const path = [start.index];
    for (let p = prev[start.index]!; p !== start.index && p !== -1 && path.length <= nodes.length; p = prev[p]!) path.unshift(p);
    path.unshift(start.index);
    const key = [...new Set(path)].sort((a, b) => a - b).join(',');
    if (reported.has(key)) continue;
    reported.add(key);
    const ids = path.map((i) => quote(nodes[i]!.id));
    const loop = (ids.length > 12 ? [...ids.slice(0, 10), '…', ids[ids.length - 1]!] : ids).join(' → ');
    problems.push(
      problem(
        ['steps', start.index],
        `Steps ${loop} could send to the same lead again after ${spoken(lap)}; every loop through an email, sms or voice step must wait at least 1 hour in total, so lengthen a wait on it (a branch's "within" counts only on its "else" path).`,
      ),
    );
  }
  return problems;
}
