/**
 * Saved filters: CRUD, names unique per owner, private to their owner unless shared, and a shared
 * one changed only by its owner or an admin. Owners are people (session) or tokens (by name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { person, signIn } from '../accounts/kit.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

let database: TestDatabase;
let kit: ApiKit;
let workspace: string;

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  kit = await createApiKit(database.db);
  workspace = (await kit.call('GET', '/api/me')).body.workspace.name;
});
afterAll(async () => {
  await kit?.close();
  await database?.close();
});

describe('saved filters', () => {
  it('saves, lists, renames, changes and deletes one of its own', async () => {
    const created = await kit.call('POST', '/api/saved-filters', { token: kit.tokens.viewer, body: { name: 'Replied', filter: { status: 'replied' } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'Replied', filter: { status: 'replied' }, shared: false, mine: true, canEdit: true, owner: expect.stringContaining('viewer') });
    const id = created.body.id;

    const list = await kit.call('GET', '/api/saved-filters', { token: kit.tokens.viewer });
    expect(list.body.items.map((f: { id: string }) => f.id)).toContain(id);

    const patched = await kit.call('PATCH', `/api/saved-filters/${id}`, { token: kit.tokens.viewer, body: { name: 'Replied at Acme', filter: { status: 'replied', q: 'acme' } } });
    expect(patched.body).toMatchObject({ name: 'Replied at Acme', filter: { status: 'replied', q: 'acme' } });

    expect((await kit.call('DELETE', `/api/saved-filters/${id}`, { token: kit.tokens.viewer })).status).toBe(204);
    expect((await kit.call('GET', '/api/saved-filters', { token: kit.tokens.viewer })).body.items.map((f: { id: string }) => f.id)).not.toContain(id);
  });

  it('refuses a second filter of the same name for the same owner (409), not for another owner', async () => {
    expect((await kit.call('POST', '/api/saved-filters', { token: kit.tokens.operator, body: { name: 'Hot', filter: { q: 'hot' } } })).status).toBe(201);
    const twice = await kit.call('POST', '/api/saved-filters', { token: kit.tokens.operator, body: { name: 'hot', filter: {} } });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'duplicate_name', message: 'You already have a saved filter named "hot"; choose another name, or change that one.' });
    expect((await kit.call('POST', '/api/saved-filters', { token: kit.tokens.admin, body: { name: 'Hot', filter: {} } })).status).toBe(201);

    const other = await kit.call('POST', '/api/saved-filters', { token: kit.tokens.operator, body: { name: 'Cold', filter: {} } });
    const rename = await kit.call('PATCH', `/api/saved-filters/${other.body.id}`, { token: kit.tokens.operator, body: { name: 'HOT' } });
    expect(rename.status).toBe(409);
  });

  it('refuses a filter the lead list does not take, with the path', async () => {
    const bad = await kit.call('POST', '/api/saved-filters', { token: kit.tokens.viewer, body: { name: 'Bad', filter: { status: 'sleepy' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].path).toBe('$.filter.status');
    const empty = await kit.call('PATCH', `/api/saved-filters/00000000-0000-4000-8000-000000000000`, { token: kit.tokens.viewer, body: {} });
    expect(empty.status).toBe(400);
  });

  it("keeps a private filter its owner's; shares one with the workspace, changed only by its owner or an admin", async () => {
    const ada = await signIn(kit, await person(kit, workspace, 'operator'));
    const bob = await signIn(kit, await person(kit, workspace, 'viewer'));
    const mine = await kit.call('POST', '/api/saved-filters', { session: ada, body: { name: 'Mine', filter: { q: 'ada' } } });
    const shared = await kit.call('POST', '/api/saved-filters', { session: ada, body: { name: 'Team', filter: { status: 'new' }, shared: true } });
    expect(mine.body.owner).toContain('@');

    const seen = (await kit.call('GET', '/api/saved-filters', { session: bob })).body.items;
    expect(seen.map((f: { name: string }) => f.name)).toContain('Team');
    expect(seen.map((f: { name: string }) => f.name)).not.toContain('Mine');
    expect(seen.find((f: { name: string }) => f.name === 'Team')).toMatchObject({ mine: false, canEdit: false, shared: true });

    expect((await kit.call('PATCH', `/api/saved-filters/${mine.body.id}`, { session: bob, body: { name: 'Stolen' } })).status).toBe(404);
    expect((await kit.call('DELETE', `/api/saved-filters/${mine.body.id}`, { token: kit.tokens.admin })).status).toBe(404);
    const refused = await kit.call('DELETE', `/api/saved-filters/${shared.body.id}`, { session: bob });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('only they or an admin can change or delete it');

    const admin = await kit.call('PATCH', `/api/saved-filters/${shared.body.id}`, { token: kit.tokens.admin, body: { shared: false } });
    expect(admin.body).toMatchObject({ shared: false, mine: false, canEdit: true });
    expect((await kit.call('GET', '/api/saved-filters', { session: bob })).body.items.map((f: { name: string }) => f.name)).not.toContain('Team');
    expect((await kit.call('DELETE', `/api/saved-filters/${shared.body.id}`, { session: ada })).status).toBe(204);
  });

  it("never shows another workspace's filters", async () => {
    await kit.call('POST', '/api/saved-filters', { token: kit.other.admin, body: { name: 'Elsewhere', filter: {}, shared: true } });
    const names = (await kit.call('GET', '/api/saved-filters')).body.items.map((f: { name: string }) => f.name);
    expect(names).not.toContain('Elsewhere');
  });
});
