/**
 * One table over every registered `/api` route (collected as Fastify registers them, so a new
 * route is covered the moment it exists): 401 without a token or with a bad one, 403 with
 * every role below the route's, and 404 for another workspace's ids — exactly as for ids that
 * do not exist. The role and tenancy tables run twice: with API tokens, and with people signed
 * in by session cookie (their role being their membership's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/db/workspaces.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { buildWorld, contentTypeFor, idFor, takesBody, validBody, type World } from './fixtures.ts';
import { person, signIn } from '../accounts/kit.ts';

const BELOW: Record<Role, Role[]> = { viewer: [], operator: ['viewer'], admin: ['viewer', 'operator'] };
const NIL = '00000000-0000-4000-8000-000000000000';

let database: TestDatabase;
let kit: ApiKit;
let world: World;
type Credential = 'token' | 'cookie';
/** Session cookies of people with each role in the main workspace, and of an admin of the other. */
let sessions: Record<Role, string>;
let otherAdminSession: string;

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  // Three failed authentications per route from one address: far past the per-address default.
  kit = await createApiKit(database.db, { env: { AUTH_FAILURE_LIMIT: '100000' } });
  world = await buildWorld(kit);
  const main = (await kit.call('GET', '/api/me', { token: kit.tokens.admin })).body.workspace.name;
  const other = (await kit.call('GET', '/api/me', { token: kit.other.admin })).body.workspace.name;
  sessions = {
    viewer: await signIn(kit, await person(kit, main, 'viewer')),
    operator: await signIn(kit, await person(kit, main, 'operator')),
    admin: await signIn(kit, await person(kit, main, 'admin')),
  };
  otherAdminSession = await signIn(kit, await person(kit, other, 'admin'));
});

/** How a caller of `role` in the main (or the other) workspace authenticates. */
function as(credential: Credential, role: Role, workspace: 'main' | 'other' = 'main') {
  if (credential === 'token') return { token: workspace === 'main' ? kit.tokens[role] : kit.other[role] };
  if (workspace === 'other' && role !== 'admin') throw new Error('only an admin session in the other workspace');
  return { session: workspace === 'main' ? sessions[role] : otherAdminSession };
}
afterAll(async () => {
  await kit?.close();
  await database?.close();
});

function routes() {
  const list = kit.runtime.app.apiRoutes.map((r) => ({ ...r, key: `${r.method} ${r.url}` }));
  return list;
}

describe('the route list', () => {
  it('is collected from the app and every route names its lowest role', () => {
    expect(routes().length).toBeGreaterThanOrEqual(20);
    for (const route of routes()) expect(route.minRole, route.key).toMatch(/^(viewer|operator|admin)$/);
  });

  it('is the OpenAPI document: every route is documented', async () => {
    const doc = await kit.call('GET', '/api/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    for (const route of routes()) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      expect(doc.body.paths[path]?.[route.method.toLowerCase()], route.key).toBeDefined();
    }
  });

  it('answers 401 on every route without a token, with a malformed header, and with an unknown token', async () => {
    for (const route of routes()) {
      const url = fillParams(route.url, world.leadId);
      for (const token of [null, 'tp_not_a_real_token']) {
        const response = await kit.call(route.method as never, url, { token });
        expect(response.status, `${route.key} token=${token}`).toBe(401);
        expect(response.body.error.code).toBe('unauthorized');
      }
      const malformed = await kit.call(route.method as never, url, { token: null, headers: { authorization: 'Basic abc' } });
      expect(malformed.status, route.key).toBe(401);
      const unknownSession = await kit.call(route.method as never, url, { session: 'not-a-live-session-value-000000000000000000' });
      expect(unknownSession.status, `${route.key} with an unknown session`).toBe(401);
    }
  });
});

describe.each(['token', 'cookie'] as const)('the route list with %s callers', (credential) => {

  it('answers 403 on every route to each role below the one it needs', async () => {
    let checked = 0;
    for (const route of routes()) {
      for (const role of BELOW[route.minRole!]) {
        const url = route.url.includes(':id') ? fillParams(route.url, idFor(route.url, world)) : route.url;
        const body = takesBody(route.method) ? validBody(route.key, world) : undefined;
        const response = await kit.call(route.method as never, url, { ...as(credential, role), body, headers: contentTypeFor(route.key) });
        expect(response.status, `${route.key} as ${role}`).toBe(403);
        expect(response.body.error.message).toContain(route.minRole);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("answers 404 on every route with an id to another workspace's token, as for an id that does not exist", async () => {
    for (const route of routes().filter((r) => r.url.includes(':id'))) {
      const body = takesBody(route.method) ? validBody(route.key, world) : undefined;
      for (const [who, id] of [
        ['other workspace', idFor(route.url, world)],
        ['nobody', NIL],
      ] as const) {
        const caller = as(credential, 'admin', who === 'other workspace' ? 'other' : 'main');
        const response = await kit.call(route.method as never, fillParams(route.url, id), { ...caller, body, headers: contentTypeFor(route.key) });
        expect(response.status, `${route.key} (${who}): ${JSON.stringify(response.body)}`).toBe(404);
        expect(response.body.error.code).toBe('not_found');
      }
    }
  });

  it("never lists another workspace's rows", async () => {
    const mine = Object.values(world);
    // GET /api/stream stays open (it never answers a body to read): its isolation is test/api/live.test.ts's.
    for (const route of routes().filter((r) => r.method === 'GET' && !r.url.includes(':id') && r.url !== '/api/stream')) {
      const response = await kit.call('GET', route.url, as(credential, 'admin', 'other'));
      expect(response.status, route.key).toBe(200);
      const text = JSON.stringify(response.body);
      for (const id of mine) expect(text, route.key).not.toContain(id);
    }
  });

  it('answers 400 with the problem path for a malformed id', async () => {
    for (const route of routes().filter((r) => r.url.includes(':id'))) {
      const body = takesBody(route.method) ? validBody(route.key, world) : undefined;
      const response = await kit.call(route.method as never, fillParams(route.url, 'not-a-uuid'), { body, headers: contentTypeFor(route.key) });
      expect(response.status, route.key).toBe(400);
      expect(response.body.error.details.problems[0]).toMatchObject({ in: 'params', path: '$.id' });
    }
  });
});

/** Fills `:id` with the given id and every other path parameter with a valid value. */
function fillParams(url: string, id: string): string {
  const others: Record<string, string> = { version: '1', deliveryId: NIL };
  return url.replace(':id', id).replace(/:(\w+)/g, (_, name: string) => others[name] ?? name);
}
