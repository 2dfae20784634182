/**
 * Shrinking: a failing seed's history is drawn again with its knobs turned down one at a time
 * (fewer steps, leads, sequences and workers; then no crashes, no interleaving, no adapter
 * faults, no operators, webhooks or edits), keeping each change under which the same invariant
 * still breaks, until no change keeps it failing. The result is the smallest shape found.
 */
import { runHistory, type HistoryOptions, type HistoryResult } from './history.ts';
import type { Shape } from './scenario.ts';
import type { SimStore } from './store.ts';

function candidates(shape: Shape): Array<Partial<Shape>> {
  const out: Array<Partial<Shape>> = [];
  if (shape.steps > 4) out.push({ steps: Math.floor(shape.steps / 2) }, { steps: shape.steps - Math.max(1, Math.floor(shape.steps / 8)) });
  if (shape.leads > 1) out.push({ leads: Math.floor(shape.leads / 2) }, { leads: shape.leads - 1 });
  if (shape.sequences > 1) out.push({ sequences: 1 });
  if (shape.workers > 1) out.push({ workers: shape.workers - 1 });
  if (shape.crash > 0) out.push({ crash: 0 });
  if (shape.interleave > 0) out.push({ interleave: 0 });
  if (shape.faults > 0) out.push({ faults: 0 });
  if (shape.operators) out.push({ operators: false });
  if (shape.webhooks) out.push({ webhooks: false });
  if (shape.edits) out.push({ edits: false });
  return out;
}

export async function shrink(
  store: SimStore,
  failing: HistoryResult,
  options: Omit<HistoryOptions, 'shape' | 'seed'>,
  budget = 60,
): Promise<{ result: HistoryResult; runs: number }> {
  let best = failing;
  let runs = 0;
  const invariant = failing.violation!.invariant;
  for (let progress = true; progress && runs < budget; ) {
    progress = false;
    for (const change of candidates(best.shape)) {
      if (runs >= budget) break;
      runs += 1;
      const tried = await runHistory(store, { ...options, seed: failing.seed, shape: { ...best.shape, ...change } });
      if (tried.violation?.invariant === invariant) {
        best = tried;
        progress = true;
        break;
      }
    }
  }
  return { result: best, runs };
}

/** The one command that replays a history exactly. */
export function replayCommand(result: HistoryResult, options: { breakage?: string } = {}): string {
  const extra = options.breakage ? ` --break ${options.breakage}` : '';
  return `npm run sim -- --seed ${result.seed} --shape '${JSON.stringify(result.shape)}'${extra}`;
}
