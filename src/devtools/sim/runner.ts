/**
 * Runs many seeds: handed out in batches to child processes (one PGlite store each, both cores busy), each
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
  // Seeds are handed out in small batches as the children ask for them, so a child on a busier
  // core takes fewer and both finish together. Which seeds share a process then varies from run
  // to run; a history does not depend on that (docs/SIMULATION.md, Findings 6).
  const queue = Array.from({ length: options.count }, (_, i) => options.from + i);
  const batch = Math.max(1, Math.min(20, Math.floor(options.count / (processes * 8))));
  const next = () => queue.splice(0, batch);
  await Promise.all(
    Array.from({ length: processes }, () =>
      runChild(
        next,
        options,
        (result) => {
          add(result);
          if (result.violation && options.stopAtFirst) {
            queue.length = 0;
            stopAll();
          }
        },
        (cpu) => (summary.cpuSeconds += cpu),
        children,
      ),
    ),
  );
  summary.failures.sort((a, b) => a.seed - b.seed);
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

function runChild(
  next: () => number[],
  options: RunOptions,
  add: (r: HistoryResult) => void,
  addCpu: (seconds: number) => void,
  children: ChildProcess[],
): Promise<void> {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.push(child);
  child.send({ quick: options.quick, breakage: options.breakage, stopAtFirst: options.stopAtFirst });
  // The child asks for seeds whenever it has run out; an empty batch tells it to finish.
  child.on('message', () => {
    if (child.connected) child.send({ seeds: next() });
  });
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

/**
 * A child's work: its seeds (a list, or batches fetched until one comes back empty), one store,
 * one line each.
 */
export async function runInProcess(
  seeds: number[] | (() => Promise<number[]>),
  options: Omit<HistoryOptions, 'seed'> & { stopAtFirst?: boolean },
  emit: (result: HistoryResult) => void,
): Promise<void> {
  const listed = typeof seeds === 'function' ? [] : [...seeds];
  const fetch = typeof seeds === 'function' ? seeds : async () => listed.splice(0);
  const store = await SimStore.open({ breakage: options.breakage });
  try {
    for (let batch = await fetch(); batch.length > 0; batch = await fetch()) {
      for (const seed of batch) {
        const result = await runHistory(store, { ...options, seed });
        emit(result);
        if (result.violation && options.stopAtFirst) return;
      }
    }
  } finally {
    await store.close();
  }
}
