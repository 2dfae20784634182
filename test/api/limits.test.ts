/**
 * Tokens through the API, rate limits, body limits and Fastify's own client errors, all in the
 * one error shape; and an outcome moving a waiting branch within a second on the real worker.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/engine/clock.ts';
import { parseConfig } from '../../src/config.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime } from '../../src/app/runtime.ts';
import { unsubscribeTokens } from '../../src/webhooks/unsubscribe.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

let database: TestDatabase;
let kit: ApiKit;

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  kit = await createApiKit(database.db, { env: { API_RATE_LIMIT: '20' } });
});
afterAll(async () => {
  await kit?.close();
  await database?.close();
});

describe('tokens', () => {
  it('an admin creates, lists and revokes tokens; a revoked token is refused', async () => {
    const created = await kit.call('POST', '/api/tokens', { body: { name: 'dashboard', role: 'viewer' } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^tp_/);
    expect((await kit.call('GET', '/api/me', { token: created.body.token })).status).toBe(200);
    const listed = await kit.call('GET', '/api/tokens');
    const row = listed.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(row).toMatchObject({ name: 'dashboard', role: 'viewer', revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect((await kit.call('DELETE', `/api/tokens/${created.body.id}`)).status).toBe(204);
    expect((await kit.call('GET', '/api/me', { token: created.body.token })).status).toBe(401);
    expect((await kit.call('DELETE', `/api/tokens/${created.body.id}`)).status).toBe(404);
  });
});

describe('limits and client errors', () => {
  it('rate-limits per token with 429 and Retry-After, without touching other tokens', async () => {
    const token = kit.tokens.viewer;
    let limited: Awaited<ReturnType<ApiKit['call']>> | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const response = await kit.call('GET', '/api/me', { token });
      if (response.status === 429) limited = response;
    }
    expect(limited?.body.error.code).toBe('rate_limited');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    expect((await kit.call('GET', '/api/me', { token: kit.tokens.operator })).status).toBe(200);
  });

  it('answers 413 for a body over the limit, 415 for an unknown content type, 400 for bad JSON', async () => {
    const big = { leadIds: Array.from({ length: 40_000 }, () => '00000000-0000-4000-8000-000000000000') };
    const tooLarge = await kit.call('POST', '/api/sequences/00000000-0000-4000-8000-000000000000/enrollments', { token: kit.tokens.admin, body: big });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('payload_too_large');
    const xml = await kit.call('POST', '/api/leads', { token: kit.tokens.admin, body: '<lead/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status).toBe(415);
    expect(xml.body.error.code).toBe('unsupported_media_type');
    const broken = await kit.call('POST', '/api/leads', { token: kit.tokens.admin, body: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_json');
    const tooMany = await kit.call('POST', '/api/sequences/00000000-0000-4000-8000-000000000000/enrollments', {
      token: kit.tokens.admin,
      body: { leadIds: Array.from({ length: 10_001 }, () => '00000000-0000-4000-8000-000000000000') },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details.problems[0].path).toBe('$.leadIds');
  });
});

describe('an outcome on the real worker', () => {
  // The engine's idle sleep is ten minutes here (nothing else is due): a branch that moves within
  // a minute can only have been woken by the outcome, never by a poll. No duration is asserted;
  // the minute is room for a loaded machine.
  it('moves a waiting branch at once, not at a later poll', async () => {
    const db = (await openTestDatabase('pglite')).db;
    const runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', DISPATCHER_MAX_IDLE_SECONDS: '600' }), { db, clock: systemClock, worker: true });
    try {
      const workspace = await ensureWorkspace(db, 'live');
      const { token } = await createToken(db, workspace.id, 'admin');
      const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
        JSON.parse(
          (await runtime.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { payload: JSON.stringify(body) } : {}) })).body,
        );
      const lead = await call('POST', '/api/leads', { email: 'live@acme.test', phone: '+14155550100', firstName: 'Liv' });
      const sequence = await call('POST', '/api/sequences', taskSequence);
      await call('PATCH', `/api/sequences/${sequence.id}`, { status: 'active' });
      const enrolled = await call('POST', `/api/sequences/${sequence.id}/enrollments`, { leadIds: [lead.id] });
      const enrollmentId = enrolled.enrolled[0].enrollmentId;
      await waitFor(async () => (await call('GET', `/api/sequences/enrollments/${enrollmentId}`)).status === 'waiting', 'the branch to wait');
      await call('POST', `/api/sequences/enrollments/${enrollmentId}/outcomes`, { outcome: 'connected' });
      await waitFor(async () => (await call('GET', `/api/sequences/enrollments/${enrollmentId}`)).status === 'completed', 'the branch to move', 60_000);
    } finally {
      await runtime.close();
      await db.close();
    }
  });
});

describe('failed authentication is limited per address, before any lookup', () => {
  it('a bad token costs no database lookup once its address is over the limit; another address is unaffected', async () => {
    const database = await openTestDatabase('pglite');
    let lookups = 0;
    const db = new Proxy(database.db, {
      get(target, key, receiver) {
        if (key !== 'query') return Reflect.get(target, key, receiver);
        return (sql: string, params?: readonly unknown[]) => {
          if (sql.includes('from api_tokens')) lookups++;
          return target.query(sql, params);
        };
      },
    });
    const own = await createApiKit(db, { env: { AUTH_FAILURE_LIMIT: '10' } });
    try {
      const attempt = (token: string, remoteAddress: string) =>
        own.runtime.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` }, remoteAddress });
      const answers: number[] = [];
      for (let i = 0; i < 50; i++) answers.push((await attempt(`tp_bad${i}`, '203.0.113.7')).statusCode);
      expect(answers.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(answers.slice(10)).toEqual(Array(40).fill(429));
      expect(lookups).toBeLessThanOrEqual(10);
      const limited = await attempt('tp_bad-again', '203.0.113.7');
      expect(JSON.parse(limited.body).error.code).toBe('rate_limited');
      expect(JSON.parse(limited.body).error.message).toMatch(/failed authentications/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // A good client elsewhere is not touched.
      expect((await attempt(own.tokens.viewer, '198.51.100.9')).statusCode).toBe(200);
      // Behind the limited address (an office's NAT), a token this process has already seen valid
      // still passes; one it has not seen waits like the guesses, unlooked-up.
      const before = lookups;
      expect((await attempt(own.tokens.operator, '203.0.113.7')).statusCode).toBe(429);
      expect(lookups).toBe(before);
      expect((await attempt(own.tokens.viewer, '203.0.113.7')).statusCode).toBe(200);
    } finally {
      await own.close();
      await database.close();
    }
  });
});

describe('behind a reverse proxy', () => {
  it('with TRUST_PROXY, failed authentications count per forwarded client, not per proxy', async () => {
    const database = await openTestDatabase('pglite');
    const own = await createApiKit(database.db, { env: { AUTH_FAILURE_LIMIT: '3', TRUST_PROXY: '127.0.0.1' } });
    try {
      const attempt = (client: string) =>
        own.runtime.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Bearer tp_bad', 'x-forwarded-for': client }, remoteAddress: '127.0.0.1' });
      for (let i = 0; i < 3; i++) expect((await attempt('203.0.113.7')).statusCode).toBe(401);
      expect((await attempt('203.0.113.7')).statusCode).toBe(429);
      expect((await attempt('198.51.100.9')).statusCode).toBe(401);
    } finally {
      await own.close();
      await database.close();
    }
  });
});

describe('JSON nesting', () => {
  it('a body nested deeper than the limit is a 400 that says so, anywhere JSON is accepted', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const lead = await kit.call('POST', '/api/leads', { body: `{"email":"deep@acme.test","customFields":${deep}}`, headers: { 'content-type': 'application/json' } });
    expect(lead.status).toBe(400);
    expect(lead.body.error.code).toBe('json_too_deep');
    expect(lead.body.error.message).toMatch(/deeper than 32 levels/);
    const arrays = await kit.call('POST', '/api/sequences', { body: '['.repeat(100_000), headers: { 'content-type': 'application/json' } });
    expect(arrays.status).toBe(400);
    expect(arrays.body.error.code).toBe('json_too_deep');
    // Brackets inside strings are text, not nesting.
    const shallow = await kit.call('POST', '/api/leads', {
      body: { email: 'brackets@acme.test', customFields: { note: '{'.repeat(100) + '['.repeat(100), nested: { a: { b: { c: 1 } } } } },
    });
    expect(shallow.status).toBe(201);
  });
});

describe('security headers', () => {
  it('the dashboard and the unsubscribe pages carry a strict CSP, no framing, nosniff and a referrer policy', async () => {
    for (const url of ['/', '/leads/123', '/unsubscribe/not-a-token']) {
      const response = await kit.runtime.app.inject({ method: 'GET', url });
      const csp = String(response.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'none'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("base-uri 'none'");
      expect(csp, url).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
    }
    const api = await kit.call('GET', '/api/me');
    expect(api.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('the request log', () => {
  it('never holds an unsubscribe token', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const database = await openTestDatabase('pglite');
    const runtime = await createRuntime(parseConfig({}), { db: database.db, logger, worker: false });
    try {
      const token = unsubscribeTokens(runtime.config).sign('0b7e5a3c-1d2f-4a5b-8c9d-0e1f2a3b4c5d');
      expect((await runtime.app.inject({ method: 'GET', url: `/unsubscribe/${token}?x=1` })).statusCode).toBe(200);
      expect((await runtime.app.inject({ method: 'POST', url: `/unsubscribe/${token}`, payload: 'List-Unsubscribe=One-Click' })).statusCode).toBe(404);
      const log = lines.join('');
      expect(log).toContain('/unsubscribe/[redacted]');
      expect(log).not.toContain(token);
      expect(log).not.toContain(token.split('.')[1]);
    } finally {
      await runtime.close();
      await database.close();
    }
  });
});

describe('/metrics', () => {
  it('answers only to METRICS_TOKEN or an API token, and a scrape does not count the store every time', async () => {
    const database = await openTestDatabase('pglite');
    let counts = 0;
    const db = new Proxy(database.db, {
      get(target, key, receiver) {
        if (key !== 'query') return Reflect.get(target, key, receiver);
        return (sql: string, params?: readonly unknown[]) => {
          if (/select count\(\*\)::int as n from enrollments/.test(sql)) counts++;
          return target.query(sql, params);
        };
      },
    });
    const own = await createApiKit(db, { env: { METRICS_TOKEN: 'metrics-token-0123456789abcdef' } });
    try {
      const scrape = (authorization?: string) => own.runtime.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
      expect((await scrape()).statusCode).toBe(401);
      expect((await scrape('Bearer wrong')).statusCode).toBe(401);
      expect(counts).toBe(0);
      const first = await scrape('Bearer metrics-token-0123456789abcdef');
      expect(first.statusCode).toBe(200);
      expect(first.body).toContain('touchpoint_enrollments_due');
      const afterFirst = counts;
      expect(afterFirst).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) expect((await scrape(`Bearer ${own.tokens.viewer}`)).statusCode).toBe(200);
      expect(counts).toBe(afterFirst); // cached: the clock has not moved
      own.clock.advance(60_000);
      await scrape('Bearer metrics-token-0123456789abcdef');
      expect(counts).toBeGreaterThan(afterFirst);
    } finally {
      await own.close();
      await database.close();
    }
  });
});

describe('CSV import limits', () => {
  const csv = (text: string, query = '') =>
    kit.call('POST', `/api/leads/import${query}`, { token: kit.tokens.admin, body: text, headers: { 'content-type': 'text/csv' } });

  it('10 MB of one-character rows is refused at the row cap, without reading the rest', async () => {
    const body = 'email\n' + 'a\n'.repeat(5 * 1024 * 1024 - 4);
    const heapBefore = process.memoryUsage().heapUsed;
    const result = await csv(body);
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('too_many_rows');
    expect(result.body.error.message).toMatch(/up to 50000 rows/);
    expect(result.body.error.message).toMatch(/stopped reading at line 50002/);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(300 * 1024 * 1024);
  });

  it('a body over 10 MB is a 413, whatever its rows', async () => {
    const row = `${'x'.repeat(1000)}@acme.test\n`;
    const result = await csv('email\n' + row.repeat(11_000));
    expect(result.status).toBe(413);
    expect(result.body.error.code).toBe('payload_too_large');
  });

  it('custom fields get the JSON API limits, as per-row errors', async () => {
    const longKey = 'k'.repeat(101);
    const text = [
      `email,plan,notes,${longKey}`,
      'fits@acme.test,pro,short,',
      `huge@acme.test,pro,${'n'.repeat(40_000)},`,
      `longkey@acme.test,pro,short,value`,
    ].join('\n');
    const result = await csv(text, '?dryRun=true');
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ rows: 3, imported: 1, failed: 2 });
    const byLine = Object.fromEntries(result.body.errors.map((e: { line: number; message: string }) => [e.line, e.message]));
    expect(byLine[3]).toMatch(/32 KB/);
    expect(byLine[4]).toMatch(/100 characters/);
  });
});
