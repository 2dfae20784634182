/**
 * A worker process of the benchmark (spawned by bench/lib/processes.ts). Two kinds:
 *
 *   serve <mode>                            a long-lived worker for one multi-process workload
 *                                           (A on PostgreSQL / Redis): it serves the workload's
 *                                           warm-up and measured runs, answers `@bench up` once
 *                                           loaded, and takes one line of JSON per command on
 *                                           stdin:
 *     {"op":"prepare","args":[…]}           sets up one run (connections, the runner) and
 *                                           answers `@bench ready`
 *     {"op":"go"}                           starts the prepared run (the parent starts its clock
 *                                           as it writes this to every worker)
 *     {"op":"stop"}                         stops the run and answers `@bench stopped`
 *     {"op":"exit"}                         closes what the process kept and exits
 *   Modes and their prepare args: graphile <url> <schema> <concurrency> <options JSON>,
 *   bullmq <redisUrl> <queue> <concurrency>, engine <url> <concurrency>,
 *   distributed <url> <redisUrl> <prefix> <concurrency>. Connections to a database are opened
 *   once per process and kept across the workload's runs.
 *
 *   dormant-seed <seedEmpty|-> <emptyDir> <seedDormant|-> <dormant>
 *                                           seeds C's two on-disk stores (prints JSON)
 *   dormant-run <dataDir> <dormant> <due> <settleSeconds> <idleSeconds>
 *                                           C's run on that store, in this fresh process: warms up,
 *                                           answers `@bench ready`, measures on a line `go` on stdin
 *                                           and prints JSON
 *
 * The one-shot kinds import only what they run (C measures a fresh process's memory).
 */
import { createInterface } from 'node:readline';
import type { ChildRun } from './lib/processes.ts';

const [kind, ...argv] = process.argv.slice(2);

type Prepare = (args: string[]) => Promise<ChildRun>;

async function preparer(mode: string): Promise<{ prepare: Prepare; closeAll: () => Promise<void> }> {
  switch (mode) {
    case 'graphile': {
      const m = await import('./peers/graphile.ts');
      return { prepare: (a) => m.prepareGraphileChild(a[0]!, a[1]!, Number(a[2]), a[3] ? JSON.parse(a[3]) : {}), closeAll: m.closeGraphileChild };
    }
    case 'bullmq': {
      const m = await import('./peers/bullmqChain.ts');
      return { prepare: (a) => m.prepareBullmqChild(a[0]!, a[1]!, Number(a[2])), closeAll: async () => undefined };
    }
    case 'engine': {
      const m = await import('./workloads/children.ts');
      return { prepare: (a) => m.prepareEngineChild(a[0]!, Number(a[1])), closeAll: m.closeEngineChild };
    }
    case 'distributed': {
      const m = await import('./workloads/distributed.ts');
      return { prepare: (a) => m.prepareDistributedChild(a[0]!, a[1]!, a[2]!, Number(a[3])), closeAll: m.closeDistributedChild };
    }
    default:
      throw new Error(`unknown worker mode ${mode}`);
  }
}

async function serve(mode: string): Promise<void> {
  const say = (word: string) => process.stdout.write(`@bench ${word}\n`);
  // The mode's modules are loaded before `up`, so no run pays for them.
  const { prepare, closeAll } = await preparer(mode);
  let current: ChildRun | null = null;
  const exit = async (code: number) => {
    try {
      if (current) await current.stop();
      await closeAll();
    } finally {
      process.exit(code);
    }
  };
  // Commands are handled one at a time, in order.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue
      .then(async () => {
        const command = JSON.parse(line) as { op: string; args?: string[] };
        switch (command.op) {
          case 'prepare': {
            current = await prepare(command.args ?? []);
            say('ready');
            return;
          }
          case 'go':
            await current!.start();
            return;
          case 'stop': {
            const run = current;
            current = null;
            if (run) await run.stop();
            say('stopped');
            return;
          }
          case 'exit':
            await exit(0);
            return;
          default:
            throw new Error(`unknown command ${line}`);
        }
      })
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  });
  // The parent went away: nothing more will come.
  lines.on('close', () => void queue.then(() => exit(0)));
  process.on('SIGTERM', () => void exit(0));
  process.on('SIGINT', () => void exit(0));
  say('up');
}

async function main(): Promise<void> {
  switch (kind) {
    case 'serve':
      return serve(argv[0]!);
    case 'dormant-seed': {
      const { seedDormantChild } = await import('./workloads/dormant.ts');
      process.stdout.write(`${JSON.stringify(await seedDormantChild(argv[0]!, argv[1]!, argv[2]!, Number(argv[3])))}\n`);
      return;
    }
    case 'dormant-run': {
      const { dormantRunChild } = await import('./workloads/dormant.ts');
      const go = async () => {
        const lines = createInterface({ input: process.stdin });
        const told = new Promise<void>((resolve, reject) => {
          lines.once('line', () => resolve());
          lines.once('close', () => reject(new Error('dormant-run: stdin closed before go')));
        });
        process.stdout.write('@bench ready\n');
        await told;
        lines.close();
      };
      process.stdout.write(`${JSON.stringify(await dormantRunChild(argv[0]!, Number(argv[1]), Number(argv[2]), Number(argv[3]), Number(argv[4]), go))}\n`);
      return;
    }
    default:
      throw new Error(`unknown child kind ${kind}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
