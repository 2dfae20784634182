/** Spawning worker processes for the multi-process workloads (see bench/child.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'child.ts');

export interface Workers {
  go(): void;
  stop(): Promise<void>;
}

/** Starts `count` children in `mode`; resolves once every one has printed `ready`. */
export async function startWorkers(count: number, mode: string, args: Array<string | number>): Promise<Workers> {
  const children: ChildProcess[] = [];
  const ready: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, ...args.map(String)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`${mode} worker exited with ${code} before it was ready`)));
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    throw error;
  }
  return {
    go: () => {
      for (const child of children) child.stdin!.write('go\n');
    },
    stop: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
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
