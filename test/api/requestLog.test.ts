/**
 * The request log: one line per request; a successful read (the dashboard's polling) at debug, so
 * an open dashboard leaves the info log quiet; a write or a refusal at info.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import type { Db } from '../../src/db/db.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';

const lines: Array<{ level: number; msg: string; req?: { method: string; url: string }; res?: { statusCode: number } }> = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
let db: Db;
let runtime: Runtime;
let token: string;

beforeAll(async () => {
  db = await openMemoryDatabase();
  runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'debug' }), { db, worker: false, logger: pino({ level: 'debug' }, sink) });
  token = (await createToken(db, (await ensureWorkspace(db, 'Logs')).id, 'admin', 'log test')).token;
});
afterAll(async () => {
  await runtime?.close();
  await db?.close();
});

it('logs a successful read at debug and a write or refusal at info, once each', async () => {
  const headers = { authorization: `Bearer ${token}` };
  await runtime.app.inject({ method: 'GET', url: '/api/tasks', headers });
  await runtime.app.inject({ method: 'POST', url: '/api/leads', headers, payload: { email: 'log@acme.test' } });
  await runtime.app.inject({ method: 'GET', url: '/api/leads/not-an-id', headers });
  const requests = lines.filter((l) => l.req);
  expect(requests.map((l) => [l.level, l.msg, l.req!.method, l.req!.url, l.res?.statusCode])).toEqual([
    [20, 'request completed', 'GET', '/api/tasks', 200],
    [30, 'request completed', 'POST', '/api/leads', 201],
    [30, 'request completed', 'GET', '/api/leads/not-an-id', 400],
  ]);
});
