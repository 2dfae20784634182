/**
 * `node --import tsx bench/events.ts [--events 20000] [--store pglite,postgres]` — events in and
 * webhooks out (issue 18; figures in docs/BENCHMARKS.md, "Events in, webhooks out"):
 *
 * 1. custom events ingested per second through `POST /api/events/batch` (1,000 per call, on
 *    existing leads), with no webhook endpoint, then with one endpoint subscribed to them (the
 *    outbox triggers then write a delivery per event in the same transaction);
 * 2. webhook deliveries per second from that outbox to a local receiver on 127.0.0.1 that
 *    verifies every signature with `standardwebhooks` (one deliverer, WEBHOOK_CONCURRENCY posts
 *    at once).
 *
 * 3. how soon a custom event wakes a branch waiting for it: from the event's row (stamped as the
 *    API records it) to the branch's `then` step executed (its execution completed), one event
 *    at a time over many leads, p50 / p99 / max — embedded (PGlite, the inline dispatcher in the
 *    API's process) and distributed (PostgreSQL + Redis, the API without a worker beside two
 *    `touchpoint worker` processes, the wake-up going through Redis to the leader). The
 *    dispatchers' idle sleep is set to ten minutes (DISPATCHER_MAX_IDLE_SECONDS), so every
 *    figure is the push path's; the issue's target is a second.
 *
 * `--quick`: 2,000 events and 20 wake-ups; `--parts ingest,wake` picks what runs.
 * The API is driven in-process (`app.inject`): the figures are the server's, not a client's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { createRuntime } from '../src/app/runtime.ts';
import { parseConfig } from '../src/config.ts';
import { createToken, ensureWorkspace } from '../src/db/workspaces.ts';
import { openPgliteBench, openPostgresBench, REDIS_URL, type BenchDatabase } from './lib/databases.ts';
import { latency } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    store: { type: 'string', default: 'pglite,postgres' },
    concurrency: { type: 'string', default: '50' },
    quick: { type: 'boolean', default: false },
    wakes: { type: 'string' },
    parts: { type: 'string', default: 'ingest,wake' },
  },
});
const EVENTS = Number(values.events ?? (values.quick ? 2000 : 20000));
const WAKES = Number(values.wakes ?? (values.quick ? 20 : 200));
const PARTS = new Set(values.parts!.split(','));
/** Ten minutes: no dispatcher looks of its own accord while a wake-up is measured. */
const IDLE_SECONDS = '600';
const BATCH = 1000;
const LEADS = 1000;

async function receiver(): Promise<{ url: string; acknowledged: () => number; close: () => Promise<void>; secret: (s: string) => void }> {
  let wh: Webhook | undefined;
  let ok = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      try {
        wh!.verify(Buffer.concat(chunks).toString('utf8'), request.headers as Record<string, string>);
        ok += 1;
        response.writeHead(204).end();
      } catch {
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    acknowledged: () => ok,
    secret: (s) => (wh = new Webhook(s)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function run(store: string, database: BenchDatabase): Promise<void> {
  const config = parseConfig({ LOG_LEVEL: 'silent', WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_CONCURRENCY: values.concurrency });
  const runtime = await createRuntime(config, { db: database.db, worker: false });
  await runtime.app.ready();
  const workspace = await ensureWorkspace(database.db, `bench-${Date.now()}`);
  const { token } = await createToken(database.db, workspace.id, 'admin', 'bench');
  const call = async (url: string, body: unknown) => {
    const answer = await runtime.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    if (answer.statusCode >= 300) throw new Error(`${url}: ${answer.statusCode} ${answer.body}`);
    return JSON.parse(answer.body);
  };
  const email = (i: number) => `lead-${i % LEADS}@bench.test`;
  // The leads first (upsertLead), so the measured batches name existing ones.
  await call('/api/events/batch', { events: Array.from({ length: LEADS }, (_, i) => ({ email: email(i), type: 'custom.created', upsertLead: true })) });

  const ingest = async (label: string) => {
    const started = performance.now();
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, EVENTS - sent) }, (_, i) => ({ email: email(sent + i), type: 'custom.page_viewed', properties: { page: `/p/${sent + i}` } }));
      await call('/api/events/batch', { events });
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`${store}: ${label}: ${EVENTS} events in ${seconds.toFixed(2)} s = ${Math.round(EVENTS / seconds)} events/s`);
  };
  await ingest('ingest, no endpoint');

  const hooks = await receiver();
  const endpoint = await call('/api/webhook-endpoints', { url: hooks.url, events: ['custom.page_viewed'] });
  hooks.secret(endpoint.secret);
  await ingest('ingest, one endpoint listening (a delivery row per event)');

  const started = performance.now();
  const delivered = await runtime.deliverer.drain();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${store}: deliveries: ${delivered} posted, ${hooks.acknowledged()} verified and acknowledged, in ${seconds.toFixed(2)} s = ${Math.round(delivered / seconds)} deliveries/s (${values.concurrency} at once)`);
  await hooks.close();
  await runtime.close();
}

const WAKE_SEQUENCE = {
  name: 'Wake-up latency',
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
  steps: [
    { id: 'hold', type: 'branch', when: { event: 'custom.demo_booked' }, within: 'P7D', then: 'booked', else: 'done' },
    { id: 'booked', type: 'email', subject: 'See you', body: 'Great', next: 'done' },
    { id: 'done', type: 'end' },
  ],
};

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `touchpoint worker` processes on this database and Redis prefix, started. */
async function workers(count: number, env: Record<string, string>): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawn(process.execPath, ['bin/touchpoint.mjs', 'worker'], { cwd: new URL('..', import.meta.url).pathname, env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
      child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
      await until(async () => {
        if (child.exitCode !== null) throw new Error(`worker exited before starting:\n${log}`);
        return log.includes('worker started');
      }, 'a worker to start', 60_000);
      return child;
    }),
  );
}

/**
 * Event recorded → the branch's `then` step executed, one event at a time. Both stamps are the
 * server's (the event row's received_at, the execution's completed_at), on this machine's clock.
 */
async function wakeLatency(mode: 'embedded' | 'distributed'): Promise<void> {
  const database = mode === 'distributed' ? await openPostgresBench() : await openPgliteBench();
  const prefix = `bw${randomBytes(4).toString('hex')}`;
  const shared = { LOG_LEVEL: 'silent', DISPATCHER_MAX_IDLE_SECONDS: IDLE_SECONDS, USE_MOCK_SEQUENCE_DELIVERY: 'true', MOCK_CALL_OUTCOME: 'none' };
  const env = mode === 'distributed' ? { ...shared, DATABASE_URL: database.url!, REDIS_URL, REDIS_PREFIX: prefix } : shared;
  const runtime = await createRuntime(parseConfig(env), { db: database.db, worker: mode === 'embedded' });
  const children = mode === 'distributed' ? await workers(2, { ...env, WORKER_METRICS_PORT: '0' }) : [];
  try {
    await runtime.app.ready();
    const workspace = await ensureWorkspace(database.db, `wake-${Date.now()}`);
    const { token } = await createToken(database.db, workspace.id, 'admin', 'bench');
    const call = async (method: 'POST' | 'PATCH', url: string, body: unknown) => {
      const answer = await runtime.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      if (answer.statusCode >= 300) throw new Error(`${url}: ${answer.statusCode} ${answer.body}`);
      return JSON.parse(answer.body);
    };
    const sequence = await call('POST', '/api/sequences', WAKE_SEQUENCE);
    await call('PATCH', `/api/sequences/${sequence.id}`, { status: 'active' });
    const created = await call('POST', '/api/events/batch', { events: Array.from({ length: WAKES }, (_, i) => ({ email: `wake-${i}@bench.test`, type: 'custom.created', upsertLead: true })) });
    const leadIds = (created.results as Array<{ leadId: string }>).map((r) => r.leadId);
    await call('POST', `/api/sequences/${sequence.id}/enrollments`, { leadIds });
    const count = async (status: string) =>
      (await database.db.query<{ n: number }>('select count(*)::int as n from enrollments where sequence_id = $1 and status = $2', [sequence.id, status]))[0]!.n;
    await until(async () => (await count('waiting')) === WAKES, `${WAKES} enrollments waiting at the branch`, 120_000);

    const samples: number[] = [];
    for (const leadId of leadIds) {
      // Embedded: wait for the dispatcher's sleep, so each event finds it idle, as in production.
      if (mode === 'embedded') await until(async () => runtime.engine.dispatcher.asleep, 'the dispatcher asleep', 10_000);
      await call('POST', '/api/events', { leadId, type: 'custom.demo_booked' });
      let ms: number | undefined;
      await until(async () => {
        const [row] = await database.db.query<{ ms: number | null }>(
          `select (extract(epoch from x.completed_at - e.received_at) * 1000)::float8 as ms
             from sequence_executions x, events e
            where x.lead_id = $1 and x.step_id = 'booked' and x.status = 'succeeded' and e.lead_id = $1 and e.type = 'custom.demo_booked'`,
          [leadId],
        );
        ms = row?.ms ?? undefined;
        return ms !== undefined;
      }, 'the branch to take then', 60_000);
      samples.push(ms!);
    }
    const figures = latency(samples);
    const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ');
    console.log(
      `${mode}: wake-up, event recorded → then step executed: p50 ${figures.p50.toFixed(0)} ms, p99 ${figures.p99.toFixed(0)} ms, max ${figures.max.toFixed(0)} ms over ${figures.count} events (idle sleep ${IDLE_SECONDS} s; load average ${load})`,
    );
  } finally {
    for (const child of children) {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
    await runtime.close();
    await database.close();
  }
}

if (PARTS.has('ingest')) {
  for (const store of values.store!.split(',')) {
    const database = store === 'postgres' ? await openPostgresBench() : await openPgliteBench();
    try {
      await run(store, database);
    } finally {
      await database.close();
    }
  }
}
if (PARTS.has('wake')) {
  for (const store of values.store!.split(',')) await wakeLatency(store === 'postgres' ? 'distributed' : 'embedded');
}
