/**
 * What stopping an enrollment gives up: the steps that would still send or ask something of a
 * person (emails, SMS, calls, tasks), reachable from where it stands along the same edges the
 * graph and validation use (src/core/graph.ts). With branches that is every way it could go,
 * so the count is "up to".
 */
import { edgesOf } from '../../../src/core/graph.ts';

const COUNTED = ['email', 'sms', 'voice', 'task'] as const;
type Counted = (typeof COUNTED)[number];
const NOUN: Record<Counted, [string, string]> = { email: ['email', 'emails'], sms: ['SMS', 'SMS'], voice: ['call', 'calls'], task: ['task', 'tasks'] };

export interface StepsAhead {
  total: number;
  byType: Partial<Record<Counted, number>>;
  /** Whether a branch lies ahead (the count is then an upper bound). */
  branches: boolean;
}

/** The steps reachable from `currentStepId`, itself included when `includeCurrent` (it has not run yet). */
export function stepsAhead(steps: readonly unknown[], currentStepId: string | null | undefined, includeCurrent: boolean): StepsAhead {
  const result: StepsAhead = { total: 0, byType: {}, branches: false };
  if (!currentStepId) return result;
  const typeOf = new Map<string, string>();
  for (const s of steps) {
    const step = s as { id?: unknown; type?: unknown };
    if (typeof step.id === 'string' && typeof step.type === 'string') typeOf.set(step.id, step.type);
  }
  const out = new Map<string, string[]>();
  for (const edge of edgesOf(steps)) out.set(edge.from, [...(out.get(edge.from) ?? []), edge.to]);
  const seen = new Set<string>([currentStepId]);
  const queue = [...(out.get(currentStepId) ?? [])];
  if (includeCurrent) queue.unshift(currentStepId);
  const counted = new Set<string>();
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (counted.has(id)) continue;
    counted.add(id);
    const type = typeOf.get(id);
    if (type === 'branch') result.branches = true;
    if (type && (COUNTED as readonly string[]).includes(type)) {
      result.total += 1;
      result.byType[type as Counted] = (result.byType[type as Counted] ?? 0) + 1;
    }
    for (const next of out.get(id) ?? []) if (!seen.has(next)) (seen.add(next), queue.push(next));
  }
  return result;
}

/** "Up to 3 scheduled steps will not run (2 emails, 1 task)." or "No step that sends anything is left." */
export function stepsAheadSentence(ahead: StepsAhead): string {
  if (ahead.total === 0) return 'No step that sends anything or asks anything of you is left.';
  const parts = COUNTED.filter((t) => ahead.byType[t]).map((t) => `${ahead.byType[t]} ${NOUN[t][ahead.byType[t] === 1 ? 0 : 1]}`);
  const steps = `${ahead.total} scheduled step${ahead.total === 1 ? '' : 's'}`;
  return `${ahead.branches ? 'Up to ' : ''}${steps} will not run (${parts.join(', ')}).`;
}
