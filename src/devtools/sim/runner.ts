/**
 * Runs many seeds: split over child processes (one PGlite store each, both cores busy), each
 * reporting one JSON line per history; the parent adds them up and shrinks the first failure.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runHistory, type HistoryOptions, type HistoryResult } from './history.ts';
import { SimStore, type Breakage } from './store.ts';

export interface RunOptions {
  from: number;
  count: number;
  processes: number;
  quick?: boolean;
  breakage?: Breakage;
  /** Stop at the first failing history (every process). */
  stopAtFirst?: boolean;
  onResult?: (result: HistoryResult) => void;
}

export interface RunSummary {
  histories: number;
  seconds: number;
  /** CPU seconds (user + system) the child processes used, start-up included. */
  cpuSeconds: number;
  takeovers: number;
  crashes: number;
  checks: number;
  deliveries: number;
  statements: number;
  failures: HistoryResult[];
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export async function runSeeds(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const summary: RunSummary = { histories: 0, seconds: 0, cpuSeconds: 0, takeovers: 0, crashes: 0, checks: 0, deliveries: 0, statements: 0, failures: [] };
  const add = (result: HistoryResult) => {
    summary.histories += 1;
    summary.crashes += result.stats.crashes;
    summary.takeovers += result.stats.takeovers;
    summary.checks += result.stats.checks;
    summary.deliveries += result.stats.deliveries;
    summary.statements += result.stats.statements;
    if (result.violation) summary.failures.push(result);
    options.onResult?.(result);
  };
  const processes = Math.max(1, Math.min(options.processes, options.count));
  const children: ChildProcess[] = [];
  // With stopAtFirst, the first failure anywhere stops every process (ours to stop: we forked them).
  const stopAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill();
  };
  await Promise.all(
    Array.from({ length: processes }, (_, k) => {
      const seeds = [];
      for (let s = options.from + k; s < options.from + options.count; s += processes) seeds.push(s);
      return runChild(
        seeds,
        options,
        (result) => {
          add(result);
          if (result.violation && options.stopAtFirst) stopAll();
        },
        (cpu) => (summary.cpuSeconds += cpu),
        children,
      );
    }),
  );
  summary.failures.sort((a, b) => a.seed - b.seed);
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

function runChild(
  seeds: number[],
  options: RunOptions,
  add: (r: HistoryResult) => void,
  addCpu: (seconds: number) => void,
  children: ChildProcess[],
): Promise<void> {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.push(child);
  child.send({ seeds, quick: options.quick, breakage: options.breakage, stopAtFirst: options.stopAtFirst });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (!line.startsWith('{')) return;
    let parsed: HistoryResult | { cpuUsage: { user: number; system: number } };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch (error) {
      if (options.stopAtFirst) return; // a line cut short by stopAll
      throw error;
    }
    if ('cpuUsage' in parsed) addCpu((parsed.cpuUsage.user + parsed.cpuUsage.system) / 1e6);
    else add(parsed);
  });
  return new Promise((resolve, reject) => {
    // Stopped by stopAll (a signal, no code): its seeds are not needed any more.
    child.on('exit', (code, signal) => (code === 0 || (signal && options.stopAtFirst) ? resolve() : reject(new Error(`simulator process exited with ${code ?? signal}`))));
  });
}

/** A child's work: its seeds, one store, one line each. */
export async function runInProcess(
  seeds: number[],
  options: Omit<HistoryOptions, 'seed'> & { stopAtFirst?: boolean },
  emit: (result: HistoryResult) => void,
): Promise<void> {
  const store = await SimStore.open({ breakage: options.breakage });
  try {
    for (const seed of seeds) {
      const result = await runHistory(store, { ...options, seed });
      emit(result);
      if (result.violation && options.stopAtFirst) break;
    }
  } finally {
    await store.close();
  }
}
