/**
 * No input from a client ever produces a 500: random JSON bodies, query strings, ids and
 * content types, sent to every registered `/api` route with an admin token.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { buildWorld, validBody, type World } from './fixtures.ts';

let database: TestDatabase;
let kit: ApiKit;
let world: World;

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  kit = await createApiKit(database.db);
  world = await buildWorld(kit);
});
afterAll(async () => {
  await kit?.close();
  await database?.close();
});

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '0', '-1', '1e309', 'NaN', 'null', 'true', "'; drop table leads; --", '\u0000', '%', '9'.repeat(40), '2026-02-30T25:00:00Z'),
);

function idArbitrary(world: World) {
  return fc.oneof(
    fc.uuid(),
    fc.constantFrom(world.leadId, world.sequenceId, world.enrollmentId, world.tokenId, '00000000-0000-0000-0000-000000000000'),
    text.map((s) => encodeURIComponent(s) || 'x'),
  );
}

const query = fc
  .dictionary(fc.constantFrom('limit', 'cursor', 'q', 'status', 'kind', 'channel', 'dryRun', 'defaultCountry', 'waitingFor', 'sequenceId', 'includeRevoked', 'x'), text, { maxKeys: 4 })
  .map((entries) => new URLSearchParams(entries).toString());

/** Random JSON, and random JSON grafted onto a valid body so validation goes deeper. */
function bodyArbitrary(route: string, world: World) {
  let valid: unknown;
  try {
    valid = validBody(route, world);
  } catch {
    valid = {};
  }
  const mutated =
    valid && typeof valid === 'object'
      ? fc.tuple(fc.constantFrom(...Object.keys(valid as object), 'extra'), fc.jsonValue()).map(([key, value]) => ({ ...(valid as object), [key]: value }))
      : fc.string();
  return fc.oneof(fc.jsonValue(), mutated, fc.constant(valid));
}

const contentTypes = fc.constantFrom('application/json', 'application/json', 'text/csv', 'text/plain', 'application/xml', 'multipart/form-data');

describe('fuzz: every route, random input', () => {
  it('never answers 5xx', async () => {
    const routes = kit.runtime.app.apiRoutes;
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      await fc.assert(
        fc.asyncProperty(idArbitrary(world), query, bodyArbitrary(key, world), contentTypes, async (id, qs, body, contentType) => {
          const url = `${route.url.replace(':id', id)}${qs ? `?${qs}` : ''}`;
          const sendsBody = route.method !== 'GET' && route.method !== 'DELETE';
          const payload = contentType === 'application/json' ? JSON.stringify(body) : typeof body === 'string' ? body : JSON.stringify(body);
          const response = await kit.runtime.app.inject({
            method: route.method as never,
            url,
            headers: { authorization: `Bearer ${kit.tokens.admin}`, ...(sendsBody ? { 'content-type': contentType } : {}) },
            ...(sendsBody ? { payload } : {}),
          });
          if (response.statusCode >= 500) throw new Error(`${key} → ${url} ${payload.slice(0, 200)} answered ${response.statusCode}: ${response.body}`);
          if (response.statusCode !== 204) expect(() => JSON.parse(response.body)).not.toThrow();
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 60) },
      );
    }
  });
});
