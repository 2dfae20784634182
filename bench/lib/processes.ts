/** Worker processes for the multi-process workloads (see bench/child.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'child.ts');

/** One run inside a worker process: `start` on `go`, `stop` when the parent has counted the work done. */
export interface ChildRun {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface Workers {
  /** Resolves once every process has loaded and answered `up`. */
  ready(): Promise<void>;
  /** Sets up one run in every worker; resolves when every one has answered `ready`. */
  prepare(args: Array<string | number>): Promise<void>;
  /** Starts the prepared run in every worker at once. */
  go(): void;
  /** Stops the run in every worker; resolves when every one has answered `stopped`. */
  stop(): Promise<void>;
  /** Throws if a worker process has died (call it while waiting for a run's work). */
  check(): void;
  /** Ends the processes. */
  close(): Promise<void>;
  /** The processes' ids (for their CPU time and memory in /proc). */
  pids(): number[];
}

/** A workload's set-up, kept across its warm-up and measured runs. */
export interface Session<T> {
  run(): Promise<T>;
  close(): Promise<void>;
}

interface Worker {
  child: ChildProcess;
  waiting: Array<{ word: string; resolve: () => void; reject: (error: Error) => void }>;
  exited: Error | null;
}

/**
 * Starts `count` long-lived worker processes for one workload (`mode`, see bench/child.ts).
 * Its warm-up and measured runs each `prepare`, `go` and `stop` in the same processes, so a
 * run pays no process start-up and its workers are warm from the runs before.
 */
export function startWorkers(count: number, mode: string): Workers {
  const expect = (worker: Worker, word: string) =>
    new Promise<void>((resolve, reject) => {
      if (worker.exited) return reject(worker.exited);
      worker.waiting.push({ word, resolve, reject });
    });
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'serve', mode], { stdio: ['pipe', 'pipe', 'inherit'] });
    const worker: Worker = { child, waiting: [], exited: null };
    child.stdin!.on('error', () => undefined); // a worker that died is reported by its exit
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const match = /^@bench (\w+)$/.exec(line);
        if (!match) continue;
        const next = worker.waiting[0];
        if (next && next.word === match[1]) {
          worker.waiting.shift();
          next.resolve();
        }
      }
    });
    child.once('exit', (code, signal) => {
      worker.exited = new Error(`${mode} worker process exited with ${code ?? signal}`);
      for (const w of worker.waiting.splice(0)) w.reject(worker.exited);
    });
    workers.push(worker);
  }
  const up = Promise.all(workers.map((w) => expect(w, 'up')));
  up.catch(() => undefined); // reported by ready()
  const send = (worker: Worker, command: object) => worker.child.stdin!.write(`${JSON.stringify(command)}\n`);
  const roundTrip = async (command: object, word: string) => {
    await Promise.all(
      workers.map((w) => {
        const answered = expect(w, word);
        send(w, command);
        return answered;
      }),
    );
  };
  return {
    ready: async () => {
      await up;
    },
    prepare: (args) => roundTrip({ op: 'prepare', args: args.map(String) }, 'ready'),
    go: () => {
      for (const w of workers) send(w, { op: 'go' });
    },
    stop: () => roundTrip({ op: 'stop' }, 'stopped'),
    pids: () => workers.map((w) => w.child.pid!),
    check: () => {
      const dead = workers.find((w) => w.exited);
      if (dead) throw dead.exited!;
    },
    close: async () => {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
              const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
              w.child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              send(w, { op: 'exit' });
            }),
        ),
      );
    },
  };
}

/**
 * A one-shot child that prepares, then waits: it answers `@bench ready` once its set-up is done
 * (not measured), measures when told `go` on stdin and prints its JSON line. Several can be
 * set up together and measured one at a time, each alone on the machine.
 */
export interface StagedChild<T> {
  /** Resolves when the child has answered `@bench ready`. */
  ready: Promise<void>;
  /** Tells the child to measure; resolves with its JSON once it has exited. */
  go(): Promise<T>;
  /** Kills the child if it is still running (after a failure elsewhere). */
  kill(): void;
}

export function startStagedChild<T>(mode: string, args: Array<string | number>): StagedChild<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, ...args.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.on('error', () => undefined); // a child that died is reported by its exit
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const exited = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mode} child exited with ${code}`))));
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (/^@bench ready$/m.test(out)) markReady();
  });
  const readyOrExit = Promise.race([ready, exited.then(() => Promise.reject(new Error(`${mode} child exited before it was ready`)))]);
  readyOrExit.catch(() => undefined); // reported by whoever awaits `ready`
  exited.catch(() => undefined); // reported by go()
  return {
    ready: readyOrExit,
    go: async () => {
      child.stdin!.end('go\n');
      const text = await exited;
      return JSON.parse(text.trim().split('\n').pop()!) as T;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs one child to completion and parses the JSON line it prints. */
export function runChild<T>(mode: string, args: Array<string | number>, nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', CHILD, mode, ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} child exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * Starts the prepared run in every worker, waits until `count` reaches `target` (throwing if a
 * worker process dies meanwhile), stops the workers, and answers the seconds from the start
 * to the stop.
 */
export async function runWorkersTo(workers: Workers, count: () => Promise<number>, target: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  workers.go();
  try {
    await waitForCount(
      () => {
        workers.check();
        return count();
      },
      target,
      timeoutMs,
    );
  } finally {
    await workers.stop();
  }
  return (performance.now() - started) / 1000;
}

/** Polls `count` every `everyMs` until it reaches `target`; throws after `timeoutMs`. */
export async function waitForCount(count: () => Promise<number>, target: number, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await count();
    if (n >= target) return;
    if (Date.now() > deadline) throw new Error(`timed out at ${n} of ${target}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
