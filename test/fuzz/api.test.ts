/**
 * No input from a client ever produces a 5xx or takes the process down: every registered `/api`
 * route, on PGlite and on PostgreSQL, gets random and hostile JSON, CSV, ids, query strings and
 * headers, with and without a valid token. Bounded by FUZZ_RUNS per route and a time budget.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from '../api/apiKit.ts';
import { buildWorld, idFor, validBody, type World } from '../api/fixtures.ts';
import { fuzzOptions, HOSTILE_JSON_TEXTS, headerSafe, hostileCsv, hostileHeaders, hostileJsonText, mutate, text } from './adversarial.ts';

function idArbitrary(world: World) {
  return fc.oneof(
    fc.uuid(),
    fc.constantFrom(world.leadId, world.sequenceId, world.enrollmentId, world.tokenId, '00000000-0000-0000-0000-000000000000', '-'.repeat(36)),
    text.map((s) => pathSegment(s.slice(0, 200))),
  );
}

/** A path segment; a lone surrogate cannot be percent-encoded, so it is dropped. */
function pathSegment(value: string): string {
  return encodeURIComponent(value.replace(/\p{Cs}/gu, '')) || 'x';
}

const query = fc
  .dictionary(
    fc.constantFrom('limit', 'cursor', 'q', 'status', 'kind', 'channel', 'dryRun', 'defaultCountry', 'waitingFor', 'sequenceId', 'includeRevoked', 'before', 'after', 'owner', 'assignee', 'x'),
    text.map((s) => s.slice(0, 300).replace(/\p{Cs}/gu, '')),
    { maxKeys: 4 },
  )
  .map((entries) => new URLSearchParams(entries).toString());

/** What a route is sent: its valid body mutated, random or hostile JSON text, or CSV. */
function payloadArbitrary(route: string, world: World): fc.Arbitrary<{ payload: string; contentType: string }> {
  let valid: unknown;
  try {
    valid = validBody(route, world);
  } catch {
    valid = {};
  }
  const json = (body: fc.Arbitrary<string>) => body.map((payload) => ({ payload, contentType: 'application/json' }));
  return fc.oneof(
    { weight: 3, arbitrary: json(mutate(valid).map((v) => JSON.stringify(v) ?? 'null')) },
    { weight: 2, arbitrary: json(hostileJsonText) },
    { weight: 1, arbitrary: hostileCsv.map((payload) => ({ payload, contentType: 'text/csv' })) },
    {
      weight: 1,
      arbitrary: fc.tuple(hostileJsonText, fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16')).map(([payload, contentType]) => ({ payload, contentType })),
    },
  );
}

describe.each(await databaseKinds())('fuzz: every API route on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let world: World;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    // The per-token limit is not what is under test; a 429 would hide the route behind it.
    kit = await createApiKit(database.db, { env: { API_RATE_LIMIT: '1000000' } });
    world = await buildWorld(kit);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('answers every hostile body on every route with a 4xx or a success, never a 5xx', async () => {
    for (const route of kit.runtime.app.apiRoutes) {
      if (route.method === 'GET' || route.method === 'DELETE') continue;
      for (const payload of HOSTILE_JSON_TEXTS) {
        const url = route.url.includes(':id') ? route.url.replace(':id', idFor(route.url, world)) : route.url;
        const response = await kit.runtime.app.inject({
          method: route.method as never,
          url,
          headers: { authorization: `Bearer ${kit.tokens.admin}`, 'content-type': 'application/json' },
          payload,
        });
        if (response.statusCode >= 500) throw new Error(`${route.method} ${url} ${payload.slice(0, 120)} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
      }
    }
  });

  it('never answers 5xx, always answers JSON, and stays up', async () => {
    let requests = 0;
    const routes = kit.runtime.app.apiRoutes;
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      // GET /api/stream stays open when it accepts a request, so an in-process request never ends;
      // its refusals (bad topics, auth, other workspaces) are test/api/live.test.ts's.
      if (route.url === '/api/stream') continue;
      const key = `${route.method} ${route.url}`;
      const sendsBody = route.method !== 'GET' && route.method !== 'DELETE';
      await fc.assert(
        fc.asyncProperty(
          idArbitrary(world),
          query,
          payloadArbitrary(key, world),
          hostileHeaders,
          fc.constantFrom('admin', 'other', 'hostile', 'none'),
          async (id, qs, { payload, contentType }, headers, who) => {
            const url = `${route.url.replace(':id', id)}${qs ? `?${qs}` : ''}`;
            const authorization =
              who === 'admin' ? `Bearer ${kit.tokens.admin}` : who === 'other' ? `Bearer ${kit.other.operator}` : who === 'hostile' ? headerSafe(headers.authorization ?? '') : undefined;
            requests += 1;
            const response = await kit.runtime.app.inject({
              method: route.method as never,
              url,
              headers: {
                ...(headers.accept !== undefined ? { accept: headers.accept } : {}),
                ...(authorization ? { authorization } : {}),
                ...(sendsBody ? { 'content-type': contentType } : {}),
              },
              ...(sendsBody ? { payload } : {}),
            });
            if (response.statusCode >= 500) {
              throw new Error(`${key} → ${url.slice(0, 200)} [${contentType}] ${payload.slice(0, 200)} answered ${response.statusCode}: ${response.body.slice(0, 500)}`);
            }
            // The CSV exports answer CSV when they succeed; their errors are JSON like every other route's.
            const csv = response.statusCode === 200 && String(response.headers['content-type']).startsWith('text/csv');
            if (response.statusCode !== 204 && !csv) expect(() => JSON.parse(response.body)).not.toThrow();
          },
        ),
        fuzzOptions,
      );
    }
    expect(requests).toBeGreaterThanOrEqual(routes.length);
    // Still serving, and the database still answers.
    expect((await kit.runtime.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await kit.call('GET', '/api/leads')).status).toBe(200);
    console.log(`fuzz ${kind}: ${requests} requests over ${routes.length} routes`);
  });
});
