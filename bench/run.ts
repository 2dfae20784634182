/**
 * `npm run bench` — Touchpoint's workloads and their peers, in one invocation on one machine.
 *
 *   npm run bench                  the full sizes (long: see docs/BENCHMARKS.md)
 *   npm run bench -- --quick       small sizes, same shape
 *   npm run bench -- --json        one JSON object on stdout (progress goes to stderr)
 *   npm run bench -- --markdown    the table as Markdown (for docs/BENCHMARKS.md)
 *   npm run bench -- --only A,E    some workloads: A B C D E F G H (peers and solo runs go with their workload);
 *                                  C is embedded C and C dist. (PostgreSQL + BullMQ), CE and CD one of them
 *   npm run bench -- --runs 5      measured runs per figure (default 3, at --quick 1; each after a warm-up where the figure needs one)
 *   npm run bench -- --size burst=20000,dormant=200000   override sizes (keys: bench/lib/plan.ts)
 *
 * Every figure is the median of its runs with min and max, and where it has a peer, the ratio
 * of the medians. Mock adapters answer at once and persist nothing. The end prints the total
 * seconds and each part's (`seconds: start-up …, A embedded …`): `--quick`'s budget is 60 s.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Budget, budgetLine } from './lib/budget.ts';
import { machineFacts, type MachineFacts } from './lib/machine.ts';
import { POSTGRES_URL, REDIS_URL } from './lib/databases.ts';
import { plan, type Sizes } from './lib/plan.ts';
import { runWorkloads, type Row } from './lib/workloads.ts';
import { markdownTable, printTable } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    size: { type: 'string' },
  },
});

/**
 * Progress on stderr, each line stamped with the seconds since the process started
 * (`performance.now()`: Node's start-up and the imports count, as they do for the budget).
 */
const log = (message: string) =>
  process.stderr.write(
    message
      .split('\n')
      .map((line) => `[${(performance.now() / 1000).toFixed(1).padStart(5)} s] ${line}`)
      .join('\n') + '\n',
  );

async function main(): Promise<void> {
  const budget = new Budget();
  // Node's start-up and this file's imports, before any line of main() ran.
  budget.add('start-up', performance.now() / 1000);
  const sizes: Sizes = withOverrides(plan(values.quick ? 'quick' : 'full', values.runs ? Number(values.runs) : undefined), values.size);
  const only = new Set((values.only ?? 'A,B,C,D,E,F,G,H').split(',').map((s) => s.trim().toUpperCase()));
  const pgliteVersion = (
    JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const loadAverageAtStart = loadavg().map((n) => Math.round(n * 100) / 100);
  const machine: MachineFacts & { loadAverageAtStart: number[] } = {
    ...(await budget.time('start-up', () => machineFacts(POSTGRES_URL, REDIS_URL, pgliteVersion))),
    loadAverageAtStart,
  };
  log(describeMachine(machine));
  const rows: Row[] = await runWorkloads({ sizes, only, machine, log, budget });
  const seconds = performance.now() / 1000;
  const parts = budget.entries().map((p) => ({ ...p, seconds: Math.round(p.seconds * 10) / 10 }));
  const result = {
    mode: sizes.mode,
    runs: sizes.runs,
    startedAt: new Date(Date.now() - seconds * 1000).toISOString(),
    seconds: Math.round(seconds * 10) / 10,
    /** Wall seconds per part, in the order they ran (the rest of `seconds` is closing and reporting). */
    parts,
    machine: { ...machine, loadAverageAtEnd: loadavg().map((n) => Math.round(n * 100) / 100) },
    sizes,
    rows,
  };
  const budgetText = budgetLine(budget.entries(), seconds);
  log(budgetText);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (values.markdown) process.stdout.write(`${markdownTable(rows)}\n`);
  else {
    printTable(rows, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`\n${sizes.mode} run: ${result.seconds} s; load average ${machine.loadAverageAtStart.join(' ')} at start, ${result.machine.loadAverageAtEnd.join(' ')} at end\n`);
    process.stdout.write(`${budgetText}\n`);
  }
}

function withOverrides(sizes: Sizes, spec: string | undefined): Sizes {
  if (!spec) return sizes;
  const out: Record<string, unknown> = { ...sizes };
  for (const pair of spec.split(',')) {
    const [key, value] = pair.split('=').map((s) => s.trim());
    if (!key || value === undefined || !(key in sizes) || typeof out[key] !== 'number') {
      throw new Error(`--size: unknown or non-numeric size "${pair}"; sizes are ${Object.keys(sizes).join(', ')}`);
    }
    out[key] = Number(value.replace(/_/g, ''));
  }
  return out as unknown as Sizes;
}

function describeMachine(m: MachineFacts): string {
  return [
    `machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB memory (${m.freeMemoryGiB} free), Node ${m.node}, PGlite ${m.pglite}`,
    `PostgreSQL ${m.postgres ?? 'unreachable'} ${m.postgresDurability ? JSON.stringify(m.postgresDurability) : ''}`,
    `Redis ${m.redis ?? 'unreachable'} ${m.redisDurability ? JSON.stringify(m.redisDurability) : ''}`,
    `PGlite durability: fsync=off inside the WASM build (its data directory is written through Node's fs, never fsynced)`,
    `speed: fixed JavaScript ${m.speed.javascriptMs} ms, fixed PGlite work ${m.speed.pgliteMs} ms (bench/lib/calibration.ts; lower is faster)`,
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
