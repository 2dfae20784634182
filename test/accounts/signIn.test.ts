/**
 * Sign-in and sessions over HTTP, on PGlite and PostgreSQL: the cookie's attributes, the same
 * answer for an unknown email as for a wrong password, the lockout, logout and revocation taking
 * effect at once, idle and absolute expiry (a manual clock), CSRF, the workspace header, roles
 * and audit rows naming the person, and no password or session id in the logs.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from '../api/apiKit.ts';
import { taskSequence } from '../api/fixtures.ts';
import { PASSWORD, person, sessionOf, signIn, uniqueEmail, workspaceOf } from './kit.ts';

const kinds = await databaseKinds();

describe.each(kinds)('sign-in on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;
  let logs = '';
  let main: { id: string; name: string };
  let other: { id: string; name: string };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    kit = await createApiKit(database.db, {
      env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_MINUTES: '10', SESSION_IDLE_HOURS: '2', SESSION_MAX_DAYS: '1' },
      logger: pino({ level: 'trace' }, sink),
    });
    main = await workspaceOf(kit, kit.tokens.admin);
    other = await workspaceOf(kit, kit.other.admin);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('sets an HttpOnly, SameSite=Lax cookie (not Secure on plain http) and /api/me names the person and their workspaces', async () => {
    const email = await person(kit, main.name, 'operator');
    await kit.runtime.accounts.createUser({ email, workspace: other.name, role: 'viewer' });
    const login = await kit.call('POST', '/api/auth/login', { token: null, body: { email: email.toUpperCase(), password: PASSWORD } });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^tp_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).not.toContain('Secure');
    const session = sessionOf(login.headers)!;
    const me = await kit.call('GET', '/api/me', { session });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect(me.body.workspace).toEqual(main); // the first membership when no header names one
    expect(me.body.role).toBe('operator');
    expect(me.body.workspaces).toEqual([
      { id: main.id, name: main.name, role: 'operator' },
      { id: other.id, name: other.name, role: 'viewer' },
    ]);
    const switched = await kit.call('GET', '/api/me', { session, headers: { 'x-touchpoint-workspace': other.id } });
    expect(switched.body).toMatchObject({ workspace: other, role: 'viewer' });
    // The header picks the workspace for every route, with the role held there.
    const write = await kit.call('POST', '/api/leads', { session, body: { email: uniqueEmail('lead') }, headers: { 'x-touchpoint-workspace': other.id } });
    expect(write.status).toBe(403);
    expect(write.body.error.message).toContain('viewer');
    const stranger = await kit.call('GET', '/api/leads', { session, headers: { 'x-touchpoint-workspace': '00000000-0000-4000-8000-000000000000' } });
    expect(stranger.status).toBe(403);
    // A token caller's /api/me answers as before.
    expect((await kit.call('GET', '/api/me', { token: kit.tokens.viewer })).body).toMatchObject({ role: 'viewer', token: { name: expect.any(String) } });
  });

  it('answers an unknown email exactly as a wrong password', async () => {
    const email = await person(kit, main.name, 'viewer');
    const wrong = await kit.call('POST', '/api/auth/login', { token: null, body: { email, password: 'not the password' } });
    const unknown = await kit.call('POST', '/api/auth/login', { token: null, body: { email: uniqueEmail('nobody'), password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('locks an email after too many failures, known or not, with a clear message, and unlocks after the lockout', async () => {
    const email = await person(kit, main.name, 'viewer');
    for (const target of [email, uniqueEmail('ghost')]) {
      const answers: number[] = [];
      for (let i = 0; i < 3; i++) answers.push((await kit.call('POST', '/api/auth/login', { token: null, body: { email: target, password: 'wrong password' } })).status);
      expect(answers).toEqual([401, 401, 423]);
      const locked = await kit.call('POST', '/api/auth/login', { token: null, body: { email: target, password: PASSWORD } });
      expect(locked.status).toBe(423);
      expect(locked.body.error.message).toMatch(/locked for 10 min/);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
    }
    kit.clock.advance(10 * 60_000 + 1000);
    expect((await kit.call('POST', '/api/auth/login', { token: null, body: { email, password: PASSWORD } })).status).toBe(200);
  });

  it('ends a session at once on logout and on revocation', async () => {
    const email = await person(kit, main.name, 'viewer');
    const first = await signIn(kit, email);
    const second = await signIn(kit, email);
    expect((await kit.call('GET', '/api/leads', { session: first })).status).toBe(200);
    const out = await kit.call('POST', '/api/auth/logout', { token: null, headers: { cookie: `tp_session=${first}`, origin: 'http://localhost' } });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    const after = await kit.call('GET', '/api/leads', { session: first });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toContain('sign in again');
    expect((await kit.call('GET', '/api/leads', { session: second })).status).toBe(200);
    const me = await kit.call('GET', '/api/me', { session: second });
    const [row] = await kit.db.query<{ id: string }>('select id from sessions where user_id = $1 and revoked_at is null', [me.body.user.id]);
    await kit.runtime.accounts.logout(row!.id);
    expect((await kit.call('GET', '/api/leads', { session: second })).status).toBe(401);
  });

  it('refuses a session idle past SESSION_IDLE_HOURS, and one past SESSION_MAX_DAYS however busy', async () => {
    const email = await person(kit, main.name, 'viewer');
    const idle = await signIn(kit, email);
    const busy = await signIn(kit, email);
    for (let hour = 1; hour <= 23; hour++) {
      kit.clock.advance(3_600_000);
      expect((await kit.call('GET', '/api/me', { session: busy })).status, `hour ${hour}`).toBe(200);
      if (hour === 1) expect((await kit.call('GET', '/api/me', { session: idle })).status).toBe(200);
      if (hour === 4) expect((await kit.call('GET', '/api/me', { session: idle })).status).toBe(401);
    }
    kit.clock.advance(3_600_000 + 1000);
    expect((await kit.call('GET', '/api/me', { session: busy })).status).toBe(401);
  });

  it('refuses a cookie write from a foreign origin or with none, and leaves tokens alone', async () => {
    const email = await person(kit, main.name, 'admin');
    const session = await signIn(kit, email);
    const body = { email: uniqueEmail('lead') };
    const foreign = await kit.call('POST', '/api/leads', { session, body, headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('csrf');
    const none = await kit.call('POST', '/api/leads', { token: null, body, headers: { cookie: `tp_session=${session}` } });
    expect(none.status).toBe(403);
    const referer = await kit.call('POST', '/api/leads', { token: null, body, headers: { cookie: `tp_session=${session}`, referer: 'http://localhost/leads' } });
    expect(referer.status).toBe(201);
    expect((await kit.call('GET', '/api/leads', { session, headers: { origin: 'https://evil.example' } })).status).toBe(200);
    const token = await kit.call('POST', '/api/leads', { token: kit.tokens.admin, body: { email: uniqueEmail('lead') }, headers: { origin: 'https://evil.example' } });
    expect(token.status).toBe(201);
    const login = await kit.call('POST', '/api/auth/login', { token: null, body: { email, password: PASSWORD }, headers: { origin: 'https://evil.example' } });
    expect(login.status).toBe(403);
  });

  it('checks roles for cookie callers and names the person on audit rows', async () => {
    const viewer = await signIn(kit, await person(kit, main.name, 'viewer'));
    const operatorEmail = await person(kit, main.name, 'operator');
    const operator = await signIn(kit, operatorEmail);
    const forbidden = await kit.call('POST', '/api/sequences', { session: operator, body: taskSequence });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.message).toContain('admin');
    expect((await kit.call('POST', '/api/leads', { session: viewer, body: { email: uniqueEmail('lead') } })).status).toBe(403);
    const sequence = await kit.call('POST', '/api/sequences', { body: taskSequence });
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { body: { status: 'active' } });
    const lead = await kit.call('POST', '/api/leads', { session: operator, body: { email: uniqueEmail('lead'), phone: '+14155550100' } });
    expect(lead.status).toBe(201);
    const enrolled = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { session: operator, body: { leadIds: [lead.body.id] } });
    expect(enrolled.body.enrolled, JSON.stringify(enrolled.body)).toHaveLength(1);
    const changes = await kit.call('GET', `/api/leads/${lead.body.id}/timeline?kind=change`, { session: operator });
    expect(changes.body.items?.at(-1)?.data, JSON.stringify(changes.body)).toMatchObject({ action: 'enroll', actor: operatorEmail });
  });

  it('never writes a password or a session id to the log', async () => {
    const email = await person(kit, main.name, 'viewer');
    const session = await signIn(kit, email);
    await kit.call('GET', '/api/me', { session });
    await kit.call('POST', '/api/auth/login', { token: null, body: { email, password: 'a wrong password 123' } });
    expect(logs).toContain('signed in');
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain('a wrong password 123');
    expect(logs).not.toContain(session);
  });
});
