/**
 * POST /api/leads/bulk: by ids and by filter, the dry run, chunks of 1,000 per transaction, the
 * refusals listed by name, the cap, and tenancy (another workspace's leads and sequences do not
 * exist here). On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertNewLeads } from '../../src/db/leads.ts';
import { BULK_CHUNK, MAX_BULK, MAX_SKIPPED_LISTED } from '../../src/api/bulk.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';
import { taskSequence } from './fixtures.ts';

const kinds = await databaseKinds();

describe.each(kinds)('bulk actions on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let workspaceId: string;
  let sequenceId: string;

  const lead = async (email: string, extra: Record<string, unknown> = {}) => (await kit.call('POST', '/api/leads', { body: { email, ...extra } })).body.id as string;
  const bulk = (body: unknown, token?: string) => kit.call('POST', '/api/leads/bulk', { body, ...(token ? { token } : {}) });
  const liveOf = async (leadId: string) =>
    (await kit.call('GET', `/api/leads/${leadId}/sequences`)).body.items.filter((e: { status: string }) => ['active', 'paused', 'waiting'].includes(e.status));

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    workspaceId = (await kit.call('GET', '/api/me')).body.workspace.id;
    const sequence = await kit.call('POST', '/api/sequences', { body: taskSequence });
    sequenceId = sequence.body.id;
    await kit.call('PATCH', `/api/sequences/${sequenceId}`, { body: { status: 'active' } });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('enrolls every lead a filter matches, after a dry run that changed nothing', async () => {
    const globex = [await lead('a@globex.test', { firstName: 'Ada', company: 'Globex' }), await lead('b@globex.test', { company: 'Globex' })];
    const other = await lead('c@initech.test', { company: 'Initech' });

    const dry = await bulk({ action: 'enroll', sequenceId, filter: { q: 'globex' }, dryRun: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ action: 'enroll', dryRun: true, matched: 2, done: 2, enrollments: 2, skippedCount: 0, chunks: 1 });
    expect(dry.body.sentence).toBe('2 leads: 2 will be enrolled.');
    for (const id of globex) expect(await liveOf(id)).toEqual([]);

    const real = await bulk({ action: 'enroll', sequenceId, filter: { q: 'globex' } });
    expect(real.body).toMatchObject({ dryRun: false, matched: 2, done: 2, sentence: '2 leads: 2 enrolled.' });
    for (const id of globex) expect(await liveOf(id)).toHaveLength(1);
    expect(await liveOf(other)).toEqual([]);

    // The same rule as POST /api/sequences/{id}/enrollments: already enrolled is a skip, named.
    const again = await bulk({ action: 'enroll', sequenceId, leadIds: globex, dryRun: true });
    expect(again.body).toMatchObject({ done: 0, skippedCount: 2, skippedByReason: { already_enrolled: 2 } });
    expect(again.body.skipped).toContainEqual({ leadId: globex[0], name: 'Ada', reason: 'already_enrolled', message: 'The lead is already live in this sequence.' });
    expect(again.body.sentence).toBe('2 leads: 0 will be enrolled; 2 skipped (2 already enrolled).');
  });

  it('pauses by filter with the reason and the actor on the audit rows, then lists what it could not pause', async () => {
    const dry = await bulk({ action: 'pause', filter: { q: 'globex' }, dryRun: true });
    expect(dry.body.sentence).toBe('2 leads: 2 running sequences of 2 leads will pause (nothing is sent until someone resumes them).');
    const ids = (await kit.call('GET', '/api/leads', { token: kit.tokens.viewer })).body.items.filter((l: { company: string }) => l.company === 'Globex').map((l: { id: string }) => l.id);
    for (const id of ids) expect((await liveOf(id))[0].status).toBe('active');

    const paused = await bulk({ action: 'pause', filter: { q: 'globex' }, reason: 'Trade show week' }, kit.tokens.operator);
    expect(paused.body).toMatchObject({ matched: 2, done: 2, enrollments: 2, skippedCount: 0 });
    for (const id of ids) expect((await liveOf(id))[0]).toMatchObject({ status: 'paused', statusReason: 'Trade show week' });
    const audit = await database.db.query<{ actor: string; action: string; reason: string }>(
      `select actor, action, reason from enrollment_changes where lead_id = any($1::uuid[]) and action = 'pause'`,
      [ids],
    );
    expect(audit).toHaveLength(2);
    for (const row of audit) expect(row).toMatchObject({ action: 'pause', reason: 'Trade show week', actor: expect.stringContaining('operator') });

    const twice = await bulk({ action: 'pause', filter: { q: 'globex' } });
    expect(twice.body).toMatchObject({ done: 0, skippedCount: 2, skippedByReason: { already_paused: 2 } });
    expect(twice.body.skipped[0].message).toBe('Cannot pause an enrollment that is paused: it is already paused.');

    const none = await bulk({ action: 'cancel', filter: { q: 'initech' } });
    expect(none.body.skipped).toEqual([{ leadId: expect.any(String), name: 'c@initech.test', reason: 'no_live_enrollment', message: 'The lead has no running sequence to cancel.' }]);
  });

  it("cancels by id, and treats another workspace's leads and unknown ids as not found, touching nothing there", async () => {
    const mine = await lead('d@hooli.test', { firstName: 'Dee' });
    await kit.call('POST', `/api/sequences/${sequenceId}/enrollments`, { body: { leadIds: [mine] } });
    const theirs = (await kit.call('POST', '/api/leads', { token: kit.other.admin, body: { email: 'x@other.test' } })).body.id;
    const theirSequence = (await kit.call('POST', '/api/sequences', { token: kit.other.admin, body: taskSequence })).body.id;
    await kit.call('PATCH', `/api/sequences/${theirSequence}`, { token: kit.other.admin, body: { status: 'active' } });
    await kit.call('POST', `/api/sequences/${theirSequence}/enrollments`, { token: kit.other.admin, body: { leadIds: [theirs] } });
    const nobody = '00000000-0000-4000-8000-000000000000';

    const cancelled = await bulk({ action: 'cancel', leadIds: [mine, theirs, nobody, mine], reason: 'Wrong list' });
    expect(cancelled.body).toMatchObject({ matched: 1, done: 1, enrollments: 1, skippedCount: 2, skippedByReason: { not_found: 2 } });
    expect(cancelled.body.skipped).toEqual(
      expect.arrayContaining([
        { leadId: theirs, name: null, reason: 'not_found', message: 'No lead with this id in the workspace.' },
        { leadId: nobody, name: null, reason: 'not_found', message: 'No lead with this id in the workspace.' },
      ]),
    );
    expect(await liveOf(mine)).toEqual([]);
    const theirLive = await kit.call('GET', `/api/leads/${theirs}/sequences`, { token: kit.other.admin });
    expect(theirLive.body.items[0].status).toBe('active');

    // Their sequence does not exist here; nor does a delete reach their lead.
    const enroll = await bulk({ action: 'enroll', sequenceId: theirSequence, leadIds: [mine] });
    expect(enroll.status).toBe(404);
    expect(enroll.body.error.code).toBe('not_found');
    const deleted = await bulk({ action: 'delete', leadIds: [theirs] });
    expect(deleted.body).toMatchObject({ matched: 0, done: 0, skippedByReason: { not_found: 1 } });
    expect((await kit.call('GET', `/api/leads/${theirs}`, { token: kit.other.admin })).status).toBe(200);
  });

  it('refuses what it cannot do with a sentence: roles, shapes, a sequence not active', async () => {
    const viewer = await bulk({ action: 'pause', filter: {} }, kit.tokens.viewer);
    expect(viewer.status).toBe(403);
    for (const [body, path] of [
      [{ action: 'pause' }, '$.filter'],
      [{ action: 'pause', filter: {}, leadIds: ['00000000-0000-4000-8000-000000000000'] }, '$.filter'],
      [{ action: 'enroll', filter: {} }, '$.sequenceId'],
      [{ action: 'delete', filter: {}, reason: 'x' }, '$.reason'],
      [{ action: 'pause', filter: { tag: 'vip', q: 'x' } }, '$.filter'],
      [{ action: 'archive', filter: {} }, '$.action'],
    ] as const) {
      const response = await bulk(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.details.problems.map((p: { path: string }) => p.path), JSON.stringify(response.body)).toContain(path);
    }
    // `owner: "me"` is the signed-in person: a token is nobody, and is told so.
    const tokenMe = await bulk({ action: 'pause', filter: { owner: 'me' } });
    expect(tokenMe.status).toBe(400);
    expect(tokenMe.body.error.message).toMatch(/A token is nobody/);
    const draft = (await kit.call('POST', '/api/sequences', { body: { ...taskSequence, name: 'Draft' } })).body.id;
    const notActive = await bulk({ action: 'enroll', sequenceId: draft, filter: {} });
    expect(notActive.status).toBe(409);
    expect(notActive.body.error.message).toContain('only active sequences take enrollments');
  });

  it(`works through more than ${BULK_CHUNK} leads a chunk at a time, and lists at most ${MAX_SKIPPED_LISTED} skips`, async () => {
    const n = BULK_CHUNK * 2 + 500;
    await insertNewLeads(database.db, workspaceId, Array.from({ length: n }, (_, i) => ({ email: `many${i}@chunky.test`, company: 'Chunky' })));
    const count = await kit.call('GET', '/api/leads/count?q=chunky', { token: kit.tokens.viewer });
    expect(count.body).toEqual({ count: n, atLeast: false });

    const enrolled = await bulk({ action: 'enroll', sequenceId, filter: { q: 'chunky' } });
    expect(enrolled.body).toMatchObject({ matched: n, done: n, enrollments: n, chunks: 3 });
    const paused = await bulk({ action: 'pause', filter: { q: 'chunky' } });
    expect(paused.body).toMatchObject({ matched: n, done: n, enrollments: n, chunks: 3 });
    const again = await bulk({ action: 'pause', filter: { q: 'chunky' }, dryRun: true });
    expect(again.body).toMatchObject({ done: 0, skippedCount: n });
    expect(again.body.skipped).toHaveLength(MAX_SKIPPED_LISTED);
    expect(again.body.sentence).toBe(`${n.toLocaleString('en-US')} leads: 0 running sequences of 0 leads will pause (nothing is sent until someone resumes them); ${n.toLocaleString('en-US')} skipped (${n.toLocaleString('en-US')} already paused).`);

    const deleted = await bulk({ action: 'delete', filter: { q: 'chunky' } });
    expect(deleted.body).toMatchObject({ matched: n, done: n, enrollments: n, chunks: 3 });
    expect((await kit.call('GET', '/api/leads/count?q=chunky')).body.count).toBe(0);
  });

  it(`refuses a filter matching more than ${MAX_BULK} leads, saying how to narrow it, and changes nothing`, async () => {
    await insertNewLeads(database.db, workspaceId, Array.from({ length: MAX_BULK + 1 }, (_, i) => ({ email: `huge${i}@capped.test` })));
    const count = await kit.call('GET', '/api/leads/count');
    expect(count.body).toEqual({ count: MAX_BULK + 1, atLeast: true });
    const refused = await bulk({ action: 'delete', filter: {} });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'too_many_leads', message: expect.stringContaining('narrow it') });
    expect((await kit.call('GET', '/api/leads/count?q=capped')).body.count).toBe(MAX_BULK + 1);
  });
});
