/** Summaries of repeated runs and of latency samples. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, runs };
}

/** Linear-interpolated quantile of an ascending array. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN, count: sorted.length };
}

/** Runs `once` for a warm-up (discarded) and then `runs` times; answers the measured values. */
export async function repeat<T>(runs: number, once: (run: number) => Promise<T>, warmup = true): Promise<T[]> {
  if (warmup) await once(-1);
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await once(i));
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
