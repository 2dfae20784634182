/**
 * Workspace defaults applied to new sequences over HTTP: a definition without `schedule` or
 * `quietHours` is stored with the workspace's, holidays joined; an explicit one is kept as
 * written; a later change of the defaults leaves existing sequences alone; another workspace's
 * defaults never leak in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const steps = [
  { id: 'intro', type: 'email', subject: 'Hello', body: 'Hi {{ lead.firstName | default: "there" }}' },
  { id: 'done', type: 'end' },
];
const DEFAULT_SCHEDULE = { timezone: 'Europe/Berlin', days: ['tue', 'wed', 'thu'], start: '10:00', end: '16:00', holidays: ['2026-10-03'] };
const DEFAULT_QUIET = { start: '20:00', end: '09:00', channels: ['sms'] };

describe.each(kinds)('workspace defaults for new sequences on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let workspaceId: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
    workspaceId = (await kit.call('GET', '/api/me')).body.workspace.id;
    const patched = await kit.call('PATCH', `/api/workspaces/${workspaceId}`, {
      body: { defaultSchedule: DEFAULT_SCHEDULE, defaultQuietHours: DEFAULT_QUIET, holidays: ['2026-12-25', '2026-12-24'] },
    });
    expect(patched.status).toBe(200);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const stored = async (id: string) => (await kit.call('GET', `/api/sequences/${id}`)).body.definition;

  it('creates a sequence without schedule and quiet hours with the workspace defaults, holidays joined', async () => {
    const created = await kit.call('POST', '/api/sequences', { body: { name: 'defaults', steps } });
    expect(created.status).toBe(201);
    const schedule = { ...DEFAULT_SCHEDULE, holidays: ['2026-10-03', '2026-12-24', '2026-12-25'] };
    expect(created.body.definition).toMatchObject({ schedule, quietHours: DEFAULT_QUIET });
    // The stored version carries them (not only the answer).
    expect(await stored(created.body.id)).toMatchObject({ schedule, quietHours: DEFAULT_QUIET });
  });

  it('keeps an explicit schedule and quiet hours as written; a schedule without holidays gets the workspace holidays', async () => {
    const own = { timezone: 'lead', days: ['mon'], start: '08:00', end: '12:00' };
    const ownQuiet = { start: '22:00', end: '07:00', channels: ['sms', 'voice'] };
    const created = await kit.call('POST', '/api/sequences', { body: { name: 'explicit', schedule: own, quietHours: ownQuiet, steps } });
    expect(created.status).toBe(201);
    expect(await stored(created.body.id)).toMatchObject({ schedule: { ...own, holidays: ['2026-12-24', '2026-12-25'] }, quietHours: ownQuiet });
    // Holidays written (even none) are the author's choice.
    const none = await kit.call('POST', '/api/sequences', { body: { name: 'no holidays', schedule: { ...own, holidays: [] }, steps } });
    expect((await stored(none.body.id)).schedule).toEqual({ ...own, holidays: [] });
  });

  it('leaves existing sequences alone when the defaults change later, and a new version is stored as sent', async () => {
    const before = await kit.call('POST', '/api/sequences', { body: { name: 'before the change', steps } });
    const changed = await kit.call('PATCH', `/api/workspaces/${workspaceId}`, { body: { defaultSchedule: { ...DEFAULT_SCHEDULE, days: ['fri'] }, defaultQuietHours: null, holidays: [] } });
    expect(changed.status).toBe(200);
    expect((await stored(before.body.id)).schedule.days).toEqual(['tue', 'wed', 'thu']);
    expect((await stored(before.body.id)).quietHours).toEqual(DEFAULT_QUIET);
    const after = await kit.call('POST', '/api/sequences', { body: { name: 'after the change', steps } });
    const definition = await stored(after.body.id);
    expect(definition.schedule).toEqual({ ...DEFAULT_SCHEDULE, days: ['fri'] });
    expect(definition.quietHours).toBeUndefined(); // no default: the built-in quiet hours apply at run time
    // PUT writes a new version exactly as sent: defaults are for creation only.
    const put = await kit.call('PUT', `/api/sequences/${before.body.id}`, { body: { name: 'before the change', steps } });
    expect(put.status).toBe(200);
    expect((await stored(before.body.id)).schedule).toBeUndefined();
    await kit.call('PATCH', `/api/workspaces/${workspaceId}`, { body: { defaultSchedule: DEFAULT_SCHEDULE, defaultQuietHours: DEFAULT_QUIET, holidays: ['2026-12-25', '2026-12-24'] } });
  });

  it('takes nothing from another workspace, and refuses a definition the defaults make unrunnable with a path', async () => {
    const elsewhere = await kit.call('POST', '/api/sequences', { token: kit.other.admin, body: { name: 'other workspace', steps } });
    expect(elsewhere.status).toBe(201);
    expect(await kit.call('GET', `/api/sequences/${elsewhere.body.id}`, { token: kit.other.admin }).then((r) => r.body.definition)).toEqual({ name: 'other workspace', steps });
    // Quiet hours for email covering the default window (10:00–16:00): defaults are validated like written values.
    await kit.call('PATCH', `/api/workspaces/${workspaceId}`, { body: { defaultQuietHours: { start: '09:00', end: '17:00', channels: ['email'] } } });
    const refused = await kit.call('POST', '/api/sequences', { body: { name: 'unrunnable', steps } });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body.error.details.problems)).toContain('quietHours');
    await kit.call('PATCH', `/api/workspaces/${workspaceId}`, { body: { defaultQuietHours: DEFAULT_QUIET } });
  });
});
