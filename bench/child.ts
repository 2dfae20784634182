/**
 * One worker process of a multi-process workload. The parent seeds the work, spawns N of
 * these, waits for each to print `ready`, writes `go` to all of them at once and starts its
 * clock; it ends them (SIGTERM) when it has counted the work done. Modes:
 *   graphile <url> <schema> <concurrency>   a graphile-worker runner doing the step chain
 *   bullmq <redisUrl> <queue> <concurrency> a bare BullMQ worker doing no-op steps
 *   engine <url> <concurrency>              Touchpoint's inline dispatcher on PostgreSQL
 *   distributed <url> <redisUrl> <prefix> <concurrency>
 *                                           Touchpoint's distributed worker (BullMQ), as `touchpoint worker`
 *   dormant-seed <dataDir> <dormant>        seeds an on-disk store with dormant enrollments (prints JSON)
 *   dormant-run <dataDir> <dormant> <due> <idleSeconds>
 *                                           C's measured run on that store (prints JSON)
 */
import { createInterface } from 'node:readline';
import { runEngineChild } from './workloads/children.ts';
import { dormantRunChild, seedDormantChild } from './workloads/dormant.ts';
import { runDistributedChild } from './workloads/distributed.ts';
import { runBullmqChild } from './peers/bullmqChain.ts';
import { runGraphileChild } from './peers/graphile.ts';

const [mode, ...args] = process.argv.slice(2);

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      if (line.trim() === 'go') resolve();
    });
  });
}

async function main(): Promise<void> {
  let stop: () => Promise<void>;
  switch (mode) {
    case 'graphile':
      stop = await runGraphileChild(args[0]!, args[1]!, Number(args[2]), waitForGo);
      break;
    case 'bullmq':
      stop = await runBullmqChild(args[0]!, args[1]!, Number(args[2]), waitForGo);
      break;
    case 'engine':
      stop = await runEngineChild(args[0]!, Number(args[1]), waitForGo);
      break;
    case 'distributed':
      stop = await runDistributedChild(args[0]!, args[1]!, args[2]!, Number(args[3]), waitForGo);
      break;
    case 'dormant-seed':
      process.stdout.write(`${JSON.stringify(await seedDormantChild(args[0]!, Number(args[1])))}\n`);
      return;
    case 'dormant-run':
      process.stdout.write(`${JSON.stringify(await dormantRunChild(args[0]!, Number(args[1]), Number(args[2]), Number(args[3])))}\n`);
      return;
    default:
      throw new Error(`unknown child mode ${mode}`);
  }
  const shutdown = () => {
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
