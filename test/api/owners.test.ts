/**
 * Owners and assignment (issue 17 item 5) over HTTP: a lead's owner set on create, PATCH and in
 * bulk (members only, audited with the actor), the `?owner=` filter, the CSV column both ways, a
 * removed member's leads left unowned; members' working hours; tasks assigned to the lead's owner
 * (or the member a step names) with a due time in their hours, `?assignee=`; mailbox owners.
 * Roles and tenancy of the new routes are test/api/routes.test.ts's table. On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOwnerChanges } from '../../src/db/leadOwners.ts';
import { PASSWORD, person, signIn, workspaceOf } from '../accounts/kit.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();
const csv = { 'content-type': 'text/csv' };

describe.each(kinds)('owners on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let workspace: { id: string; name: string };
  let ada: { id: string; email: string; session: string };
  let bob: { id: string; email: string; session: string };
  let stranger: string;

  async function member(role: 'operator' | 'viewer' | 'admin', label: string) {
    const email = await person(kit, workspace.name, role, `${label}-${kind}@team.test`);
    const session = await signIn(kit, email, PASSWORD);
    const me = await kit.call('GET', '/api/me', { session });
    return { id: me.body.user.id as string, email, session };
  }

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    workspace = await workspaceOf(kit, kit.tokens.admin);
    ada = await member('operator', 'ada');
    bob = await member('viewer', 'bob');
    const otherWorkspace = await workspaceOf(kit, kit.other.admin);
    const outsider = await person(kit, otherWorkspace.name, 'admin', `outsider-${kind}@team.test`);
    stranger = (await kit.call('GET', '/api/me', { session: await signIn(kit, outsider) })).body.user.id;
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('sets an owner on create and PATCH (members only, null clears), shows it, filters by it and audits each change', async () => {
    const created = await kit.call('POST', '/api/leads', { token: kit.tokens.operator, body: { email: 'owned@acme.test', ownerId: ada.id } });
    expect(created.status).toBe(201);
    expect(created.body.owner).toEqual({ id: ada.id, name: null, email: ada.email });
    const refused = await kit.call('POST', '/api/leads', { body: { email: 'x@acme.test', ownerId: stranger } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('is not a member of this workspace');

    kit.clock.advance(1000);
    const moved = await kit.call('PATCH', `/api/leads/${created.body.id}`, { session: ada.session, body: { ownerId: bob.id, company: 'Acme' } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ company: 'Acme', owner: { id: bob.id } });
    expect((await kit.call('PATCH', `/api/leads/${created.body.id}`, { body: { ownerId: stranger } })).status).toBe(422);
    const unowned = await kit.call('POST', '/api/leads', { body: { email: 'nobody@acme.test' } });
    expect(unowned.body.owner).toBeNull();

    const bobs = await kit.call('GET', `/api/leads?owner=${bob.id}`, { token: kit.tokens.viewer });
    expect(bobs.body.items.map((l: { id: string }) => l.id)).toEqual([created.body.id]);
    const mine = await kit.call('GET', '/api/leads?owner=me', { session: bob.session });
    expect(mine.body.items.map((l: { id: string }) => l.id)).toEqual([created.body.id]);
    const none = await kit.call('GET', '/api/leads?owner=none');
    expect(none.body.items.map((l: { id: string }) => l.id)).toContain(unowned.body.id);
    expect(none.body.items.map((l: { id: string }) => l.id)).not.toContain(created.body.id);
    const tokenMe = await kit.call('GET', '/api/leads?owner=me');
    expect(tokenMe.status).toBe(400);
    expect(tokenMe.body.error.message).toContain('signed-in person');

    kit.clock.advance(1000);
    const cleared = await kit.call('PATCH', `/api/leads/${created.body.id}`, { body: { ownerId: null } });
    expect(cleared.body.owner).toBeNull();
    const history = await kit.call('GET', `/api/leads/${created.body.id}/owner-changes`, { token: kit.tokens.viewer });
    expect(history.body.items.map((c: { from: { email: string } | null; to: { email: string } | null }) => [c.from?.email ?? null, c.to?.email ?? null])).toEqual([
      [bob.email, null],
      [ada.email, bob.email],
      [null, ada.email],
    ]);
    const changes = await listOwnerChanges(kit.db, workspace.id, created.body.id);
    expect(changes.map((c) => [c.fromOwnerId, c.toOwnerId, c.actor])).toEqual([
      [bob.id, null, expect.stringContaining('admin of')],
      [ada.id, bob.id, ada.email],
      [null, ada.id, expect.stringContaining('operator of')],
    ]);
  });

  it('sets the owner of many leads in one call, counting only real changes, never another workspace’s', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await kit.call('POST', '/api/leads', { body: { email: `bulk${i}@acme.test` } })).body.id);
    const foreign = (await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'foreign@acme.test' } })).body.id;
    const first = await kit.call('POST', '/api/leads/owner', { token: kit.tokens.operator, body: { leadIds: [ids[0], ids[1], foreign], ownerId: ada.id } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ changed: 2 });
    const second = await kit.call('POST', '/api/leads/owner', { body: { leadIds: ids, ownerId: ada.id } });
    expect(second.body).toEqual({ changed: 1 });
    expect((await kit.call('GET', `/api/leads/${foreign}`, { token: kit.other.admin })).body.owner).toBeNull();
    expect((await kit.call('POST', '/api/leads/owner', { body: { leadIds: ids, ownerId: stranger } })).status).toBe(422);
    expect((await kit.call('POST', '/api/leads/owner', { token: kit.tokens.viewer, body: { leadIds: ids, ownerId: null } })).status).toBe(403);
    const tooMany = await kit.call('POST', '/api/leads/owner', { body: { leadIds: Array.from({ length: 10_001 }, () => ids[0]), ownerId: null } });
    expect(tooMany.status).toBe(400);
  });

  it('sets the owner over a whole filter through the bulk route (dry run first, audited), and filters by it', async () => {
    for (let i = 0; i < 3; i++) await kit.call('POST', '/api/leads', { body: { email: `filtered${i}@owners-filter.test` } });
    const filter = { q: 'owners-filter' };
    const dry = await kit.call('POST', '/api/leads/bulk', { token: kit.tokens.operator, body: { action: 'owner', ownerId: bob.id, filter, dryRun: true } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ matched: 3, done: 3, dryRun: true });
    expect(dry.body.sentence).toContain('3 will change owner');
    expect((await kit.call('GET', `/api/leads?q=owners-filter&owner=${bob.id}`)).body.items).toHaveLength(0);
    const done = await kit.call('POST', '/api/leads/bulk', { token: kit.tokens.operator, body: { action: 'owner', ownerId: bob.id, filter } });
    expect(done.body).toMatchObject({ matched: 3, done: 3, dryRun: false });
    const owned = (await kit.call('GET', `/api/leads?q=owners-filter&owner=${bob.id}`)).body.items;
    expect(owned).toHaveLength(3);
    const changes = (await kit.call('GET', `/api/leads/${owned[0].id}/owner-changes`)).body.items;
    expect(changes[0]).toMatchObject({ to: { id: bob.id }, actor: expect.stringContaining('operator') });
    // Over the filter again: nothing left to change. Then the same filter by owner, back to unowned.
    expect((await kit.call('POST', '/api/leads/bulk', { body: { action: 'owner', ownerId: bob.id, filter } })).body.done).toBe(0);
    const unowned = await kit.call('POST', '/api/leads/bulk', { body: { action: 'owner', ownerId: null, filter: { owner: bob.id, q: 'owners-filter' } } });
    expect(unowned.body).toMatchObject({ matched: 3, done: 3 });
    expect((await kit.call('POST', '/api/leads/bulk', { body: { action: 'owner', ownerId: stranger, filter } })).status).toBe(422);
    const noOwner = await kit.call('POST', '/api/leads/bulk', { body: { action: 'owner', filter } });
    expect(noOwner.status).toBe(400);
    expect(noOwner.body.error.details.problems.map((p: { path: string }) => p.path)).toContain('$.ownerId');
  });

  it('exports the owner’s email and imports an owner column of members’ emails', async () => {
    const exported = await kit.call('GET', `/api/leads/export?owner=${ada.id}`);
    const [header, ...lines] = String(exported.body).trim().split('\r\n');
    expect(header!.split(',').at(-1)).toBe('owner');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.endsWith(`,${ada.email}`))).toBe(true);

    const file = `email,owner\nimp1@acme.test,${ada.email.toUpperCase()}\nimp2@acme.test,nobody@else.test\nimp3@acme.test,\n`;
    const imported = await kit.call('POST', '/api/leads/import', { body: file, headers: csv });
    expect(imported.body).toMatchObject({ imported: 2, failed: 1 });
    expect(imported.body.errors[0]).toMatchObject({ line: 3, field: 'owner' });
    expect(imported.body.errors[0].message).toContain('is not the email of a member');
    const first = await kit.call('GET', `/api/leads/${imported.body.leadIds[0]}`);
    expect(first.body.owner).toMatchObject({ id: ada.id });
    expect((await listOwnerChanges(kit.db, workspace.id, first.body.id))[0]).toMatchObject({ toOwnerId: ada.id });
  });

  it('keeps working hours per member: settable by themself and an admin, not by another member; shown in the list', async () => {
    const own = await kit.call('PATCH', `/api/members/${ada.id}`, {
      session: ada.session,
      body: { timezone: 'Europe/Berlin', schedule: { days: ['mon', 'tue', 'wed', 'thu'], start: '08:00', end: '16:00' } },
    });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ timezone: 'Europe/Berlin', workingHours: { timezone: 'Europe/Berlin', schedule: { days: ['mon', 'tue', 'wed', 'thu'], start: '08:00' } } });
    const notMine = await kit.call('PATCH', `/api/members/${ada.id}`, { session: bob.session, body: { timezone: 'Asia/Tokyo' } });
    expect(notMine.status).toBe(403);
    expect((await kit.call('PATCH', `/api/members/${bob.id}`, { session: bob.session, body: { role: 'admin' } })).status).toBe(403);
    const bad = await kit.call('PATCH', `/api/members/${bob.id}`, { session: bob.session, body: { schedule: { timezone: 'Asia/Tokyo' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("takes no timezone");
    const list = await kit.call('GET', '/api/members', { token: kit.tokens.viewer });
    const bobRow = list.body.items.find((m: { userId: string }) => m.userId === bob.id);
    expect(bobRow).toMatchObject({ timezone: null, schedule: null, workingHours: { timezone: 'America/New_York', schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' } } });
    const byAdmin = await kit.call('PATCH', `/api/members/${bob.id}`, { body: { timezone: 'America/Los_Angeles' } });
    expect(byAdmin.body.timezone).toBe('America/Los_Angeles');
  });

  it('assigns tasks to the lead’s owner (or the member a step names), due in their working hours; filters by assignee', async () => {
    // Wednesday 2026-03-04 15:00Z: 16:00 in Berlin, ada works Mon–Thu 08:00–16:00 there.
    const sequence = await kit.call('POST', '/api/sequences', {
      body: {
        name: 'Owner tasks',
        ...OPEN_ALL_DAY,
        steps: [
          { id: 'call', type: 'task', title: 'Call {{ lead.email }}', dueWithin: 'PT2H' },
          { id: 'review', type: 'task', title: 'Review', assignee: bob.email },
          { id: 'done', type: 'end' },
        ],
      },
    });
    expect(sequence.status).toBe(201);
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    const owned = (await kit.call('POST', '/api/leads', { body: { email: 'task-owned@acme.test', ownerId: ada.id } })).body.id;
    const orphan = (await kit.call('POST', '/api/leads', { body: { email: 'task-orphan@acme.test' } })).body.id;
    await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { body: { leadIds: [owned, orphan] } });
    kit.clock.advance(1000);
    await kit.runtime.engine.dispatcher.drain();

    const mine = await kit.call('GET', '/api/tasks?assignee=me', { session: ada.session });
    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(1);
    // Opened 16:00:01 Berlin, Wednesday, as the window closes: 2 working hours = Thursday 10:00 CET = 09:00Z.
    expect(mine.body.items[0]).toMatchObject({ lead: { id: owned }, assignee: { id: ada.id, email: ada.email }, dueAt: '2026-03-05T09:00:00.000Z' });
    const unassigned = await kit.call('GET', '/api/tasks?assignee=none');
    expect(unassigned.body.items.map((t: { lead: { id: string } }) => t.lead.id)).toEqual([orphan]);
    expect(unassigned.body.items[0].assignee).toBeNull();
    const all = await kit.call('GET', '/api/tasks');
    expect(all.body.items.filter((t: { sequenceId: string }) => t.sequenceId === sequence.body.id)).toHaveLength(2);
    expect((await kit.call('GET', '/api/tasks?assignee=me')).status).toBe(400);

    // The task follows its lead to a new owner.
    await kit.call('PATCH', `/api/leads/${orphan}`, { body: { ownerId: bob.id } });
    const bobs = await kit.call('GET', `/api/tasks?assignee=${bob.id}`);
    expect(bobs.body.items.map((t: { lead: { id: string } }) => t.lead.id)).toEqual([orphan]);

    // The second step names bob by email, whoever owns the lead.
    const task = mine.body.items[0];
    await kit.call('POST', `/api/sequences/enrollments/${task.id}/outcomes`, { body: { outcome: 'done' } });
    kit.clock.advance(1000);
    await kit.runtime.engine.dispatcher.drain();
    const review = (await kit.call('GET', `/api/tasks?assignee=${bob.id}`)).body.items.find((t: { lead: { id: string } }) => t.lead.id === owned);
    expect(review).toMatchObject({ currentStep: { id: 'review' }, assignee: { id: bob.id } });
  });

  it('gives mailboxes an owner, and unowns a removed member’s leads and mailboxes (audited)', async () => {
    const carol = await member('operator', 'carol');
    const mailbox = await kit.call('POST', '/api/mailboxes', {
      body: { name: 'Carol', fromEmail: `carol-${kind}@acme.test`, smtp: { host: '127.0.0.1', port: 2525, secure: false, user: 'c', password: 'p' }, dailyLimit: 50, ownerId: carol.id },
    });
    expect(mailbox.status).toBe(201);
    expect(mailbox.body.owner).toEqual({ id: carol.id, name: null, email: carol.email });
    expect((await kit.call('PATCH', `/api/mailboxes/${mailbox.body.id}`, { body: { ownerId: stranger } })).status).toBe(422);
    const lead = (await kit.call('POST', '/api/leads', { body: { email: 'carols@acme.test', ownerId: carol.id } })).body.id;

    kit.clock.advance(1000);
    expect((await kit.call('DELETE', `/api/members/${carol.id}`)).status).toBe(204);
    expect((await kit.call('GET', `/api/leads/${lead}`)).body.owner).toBeNull();
    const box = (await kit.call('GET', '/api/mailboxes')).body.items.find((m: { id: string }) => m.id === mailbox.body.id);
    expect(box.owner).toBeNull();
    expect((await listOwnerChanges(kit.db, workspace.id, lead))[0]).toMatchObject({ fromOwnerId: carol.id, toOwnerId: null, actor: expect.stringContaining('admin of') });
  });
});
