/** Versions of a sequence, and the recent-failures list the monitoring page shows. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

describe('history on pglite', () => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('lists versions newest first with their enrollments, and returns any one as written', async () => {
    const created = await kit.call('POST', '/api/sequences', { body: taskSequence });
    const id = created.body.id as string;
    await kit.call('PATCH', `/api/sequences/${id}`, { body: { status: 'active' } });
    const lead = await kit.call('POST', '/api/leads', { body: { email: 'v1@acme.test', phone: '+14155550100', firstName: 'Vi' } });
    await kit.call('POST', `/api/sequences/${id}/enrollments`, { body: { leadIds: [lead.body.id] } });
    await kit.call('PUT', `/api/sequences/${id}`, { body: { ...taskSequence, name: 'Renamed' } });

    const versions = await kit.call('GET', `/api/sequences/${id}/versions`, { token: kit.tokens.viewer });
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v: { version: number; enrollments: number; current: boolean }) => [v.version, v.enrollments, v.current])).toEqual([
      [2, 0, true],
      [1, 1, false],
    ]);
    const first = await kit.call('GET', `/api/sequences/${id}/versions/1`, { token: kit.tokens.viewer });
    expect(first.body).toMatchObject({ version: 1, definition: { name: taskSequence.name } });
    expect((await kit.call('GET', `/api/sequences/${id}/versions/9`)).status).toBe(404);
    expect((await kit.call('GET', `/api/sequences/${id}/versions/0`)).status).toBe(400);
  });

  it('lists recent failed and unknown executions with their lead and sequence', async () => {
    const created = await kit.call('POST', '/api/sequences', { body: { ...taskSequence, name: 'Failing' } });
    await kit.call('PATCH', `/api/sequences/${created.body.id}`, { body: { status: 'active' } });
    const lead = await kit.call('POST', '/api/leads', { body: { email: 'f1@acme.test', phone: '+14155550101', firstName: 'Fa' } });
    await kit.call('POST', `/api/sequences/${created.body.id}/enrollments`, { body: { leadIds: [lead.body.id] } });
    kit.runtime.mock!.failNext({ retryable: false, code: '406', message: 'Inactive recipient' }, { channel: 'email', recipient: 'f1@acme.test' });
    await kit.runtime.engine.dispatcher.drain();

    const failures = await kit.call('GET', '/api/executions', { token: kit.tokens.viewer });
    expect(failures.status).toBe(200);
    expect(failures.body.items.find((x: { leadEmail: string }) => x.leadEmail === 'f1@acme.test')).toMatchObject({ status: 'failed', error: { code: '406' }, leadEmail: 'f1@acme.test', sequenceName: 'Failing' });
    const succeeded = await kit.call('GET', '/api/executions?status=succeeded&limit=5');
    expect(succeeded.body.items.every((x: { status: string }) => x.status === 'succeeded')).toBe(true);
    expect((await kit.call('GET', '/api/executions', { token: kit.other.viewer })).body.items).toEqual([]);
  });
});
