/**
 * Where an invocation's time goes: wall seconds per part (start-up, the worker processes, each
 * workload), printed at the end so `--quick`'s budget of 60 s can be checked part by part.
 */

export interface Part {
  name: string;
  seconds: number;
}

export class Budget {
  private readonly parts: Part[] = [];

  /** `now` in milliseconds (performance.now() by default: from the process's start). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Adds `seconds` to the part `name` (a part timed in several pieces is summed). */
  add(name: string, seconds: number): void {
    const part = this.parts.find((p) => p.name === name);
    if (part) part.seconds += seconds;
    else this.parts.push({ name, seconds });
  }

  /** Starts timing `name`; the answered function stops it and adds the seconds. */
  start(name: string): () => void {
    const started = this.now();
    return () => this.add(name, (this.now() - started) / 1000);
  }

  /** Runs `fn` and adds its wall time to `name`, also when it throws. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await fn();
    } finally {
      this.add(name, (this.now() - started) / 1000);
    }
  }

  entries(): Part[] {
    return this.parts.map((p) => ({ ...p }));
  }
}

/**
 * One line: each part's seconds in the order they ran, then what no part covers (the gaps:
 * closing processes and stores, the report) and the total, e.g.
 * `seconds: start-up 3.8, A 5.1, B 4.9, other 0.4; total 14.2`.
 */
export function budgetLine(parts: Part[], totalSeconds: number): string {
  const counted = parts.reduce((sum, p) => sum + p.seconds, 0);
  const other = totalSeconds - counted;
  const items = parts.map((p) => `${p.name} ${p.seconds.toFixed(1)}`);
  if (other >= 0.05) items.push(`other ${other.toFixed(1)}`);
  return `seconds: ${items.join(', ')}; total ${totalSeconds.toFixed(1)}`;
}
