/**
 * Tokens through the API, rate limits, body limits and Fastify's own client errors, all in the
 * one error shape; and an outcome moving a waiting branch within a second on the real worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/engine/clock.ts';
import { parseConfig } from '../../src/config.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime } from '../../src/runtime.ts';
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
  it('moves a waiting branch within a second, not at a later poll', async () => {
    const db = (await openTestDatabase('pglite')).db;
    const runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent' }), { db, clock: systemClock, worker: true });
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
      const asked = Date.now();
      await call('POST', `/api/sequences/enrollments/${enrollmentId}/outcomes`, { outcome: 'connected' });
      await waitFor(async () => (await call('GET', `/api/sequences/enrollments/${enrollmentId}`)).status === 'completed', 'the branch to move', 1000);
      expect(Date.now() - asked).toBeLessThan(1000);
    } finally {
      await runtime.close();
      await db.close();
    }
  });
});
