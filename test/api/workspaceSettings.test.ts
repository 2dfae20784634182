/** The per-lead frequency cap as a workspace setting over HTTP: admins only, per workspace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('workspace settings on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db, { env: { FREQUENCY_CAP_SMS_PER_DAY: '4' } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('answers the caps in force with the env defaults, sets and resets one channel, and keeps other workspaces apart', async () => {
    const before = await kit.call('GET', '/api/workspace/settings');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      frequencyCaps: { email: 3, sms: 4, voice: 2 },
      frequencyCapDefaults: { email: 3, sms: 4, voice: 2 },
      frequencyCapOverrides: {},
    });
    const set = await kit.call('PATCH', '/api/workspace/settings', { body: { frequencyCaps: { email: 1, voice: 0 } } });
    expect(set.status).toBe(200);
    expect(set.body.frequencyCaps).toEqual({ email: 1, sms: 4, voice: 0 });
    expect(set.body.frequencyCapOverrides).toEqual({ email: 1, voice: 0 });
    const reset = await kit.call('PATCH', '/api/workspace/settings', { body: { frequencyCaps: { email: null } } });
    expect(reset.body.frequencyCaps).toEqual({ email: 3, sms: 4, voice: 0 });
    expect((await kit.call('GET', '/api/workspace/settings', { token: kit.other.admin })).body.frequencyCapOverrides).toEqual({});
  });

  it('is for admins only, and refuses bad values with 400 naming the field', async () => {
    expect((await kit.call('GET', '/api/workspace/settings', { token: kit.tokens.operator })).status).toBe(403);
    expect((await kit.call('PATCH', '/api/workspace/settings', { token: kit.tokens.viewer, body: { frequencyCaps: { email: 1 } } })).status).toBe(403);
    for (const body of [{ frequencyCaps: { email: -1 } }, { frequencyCaps: { email: 1.5 } }, { frequencyCaps: { fax: 1 } }, { frequencyCaps: { email: 100000 } }, {}]) {
      const answer = await kit.call('PATCH', '/api/workspace/settings', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toMatch(/frequencyCaps/);
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = await kit.call('GET', '/api/openapi.json', { token: null });
    expect(Object.keys(doc.body.paths['/api/workspace/settings'] ?? {})).toEqual(expect.arrayContaining(['get', 'patch']));
  });
});
