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
 * The API is driven in-process (`app.inject`): the figures are the server's, not a client's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { createRuntime } from '../src/app/runtime.ts';
import { parseConfig } from '../src/config.ts';
import { createToken, ensureWorkspace } from '../src/db/workspaces.ts';
import { openPgliteBench, openPostgresBench, type BenchDatabase } from './lib/databases.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, store: { type: 'string', default: 'pglite,postgres' }, concurrency: { type: 'string', default: '50' } } });
const EVENTS = Number(values.events);
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

for (const store of values.store!.split(',')) {
  const database = store === 'postgres' ? await openPostgresBench() : await openPgliteBench();
  try {
    await run(store, database);
  } finally {
    await database.close();
  }
}
