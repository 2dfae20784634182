/**
 * Workspaces and their people over HTTP, on PGlite and PostgreSQL: creating a workspace makes
 * the creator admin, settings change, the last admin stays (also when two admins demote each
 * other at once), invites create or attach accounts and work once, password links work once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, type ApiKit } from '../api/apiKit.ts';
import { PASSWORD, person, sessionOf, signIn, uniqueEmail } from './kit.ts';

const kinds = await databaseKinds();
const tokenOf = (url: string) => new URL(url).hash.replace('#token=', '');

describe.each(kinds)('workspaces and people on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  /** A fresh workspace created through the API by a new person, who is its admin. */
  async function newWorkspace() {
    const email = await person(kit, `seed-${uniqueEmail('w')}`, 'viewer');
    const session = await signIn(kit, email);
    const created = await kit.call('POST', '/api/workspaces', { session, body: { name: `team ${uniqueEmail('n')}`, timezone: 'Europe/Berlin' } });
    expect(created.status).toBe(201);
    const as = { 'x-touchpoint-workspace': created.body.id };
    const me = await kit.call('GET', '/api/me', { session, headers: as });
    return { email, session, id: created.body.id as string, userId: me.body.user.id as string, as };
  }

  it('makes the creator of a workspace its admin; a token cannot create one', async () => {
    const ws = await newWorkspace();
    const me = await kit.call('GET', '/api/me', { session: ws.session, headers: ws.as });
    expect(me.body).toMatchObject({ role: 'admin', workspace: { id: ws.id } });
    const members = await kit.call('GET', '/api/members', { session: ws.session, headers: ws.as });
    expect(members.body.items).toMatchObject([{ email: ws.email, role: 'admin' }]);
    const byToken = await kit.call('POST', '/api/workspaces', { body: { name: 'by token' } });
    expect(byToken.status).toBe(403);
    const taken = await kit.call('POST', '/api/workspaces', { session: ws.session, body: { name: (await kit.call('GET', `/api/workspaces/${ws.id}`, { session: ws.session, headers: ws.as })).body.name } });
    expect(taken.status).toBe(409);
  });

  it('changes name, time zone, default schedule, quiet hours and holidays, and refuses bad ones with a path', async () => {
    const ws = await newWorkspace();
    const patched = await kit.call('PATCH', `/api/workspaces/${ws.id}`, {
      session: ws.session,
      headers: ws.as,
      body: { name: `renamed ${ws.id}`, timezone: 'America/Chicago', defaultSchedule: { days: ['mon', 'tue'], start: '09:00', end: '17:00' }, defaultQuietHours: null, holidays: ['2026-12-25'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: `renamed ${ws.id}`, timezone: 'America/Chicago', defaultSchedule: { days: ['mon', 'tue'], start: '09:00' }, defaultQuietHours: null, holidays: ['2026-12-25'] });
    const bad = await kit.call('PATCH', `/api/workspaces/${ws.id}`, { session: ws.session, headers: ws.as, body: { timezone: 'Mars/Base', holidays: ['12/25'] } });
    expect(bad.status).toBe(400);
    // Another workspace's id answers 404, as a token of another workspace would get.
    expect((await kit.call('PATCH', `/api/workspaces/${ws.id}`, { token: kit.tokens.admin, body: { name: 'x' } })).status).toBe(404);
  });

  it('keeps one admin: the last one can be neither demoted nor removed, even by two admins at once', async () => {
    const ws = await newWorkspace();
    const self = await kit.call('PATCH', `/api/members/${ws.userId}`, { session: ws.session, headers: ws.as, body: { role: 'operator' } });
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('last_admin');
    expect((await kit.call('DELETE', `/api/members/${ws.userId}`, { session: ws.session, headers: ws.as })).status).toBe(409);

    const invite = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { email: uniqueEmail('second'), role: 'admin' } });
    const accepted = await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(invite.body.url), password: PASSWORD } });
    expect(accepted.status).toBe(200);
    const second = { session: sessionOf(accepted.headers)!, userId: accepted.body.user.id as string };
    // Each demotes the other at the same moment: one wins, the workspace keeps an admin.
    const [a, b] = await Promise.all([
      kit.call('PATCH', `/api/members/${second.userId}`, { session: ws.session, headers: ws.as, body: { role: 'viewer' } }),
      kit.call('PATCH', `/api/members/${ws.userId}`, { session: second.session, headers: ws.as, body: { role: 'viewer' } }),
    ]);
    // The loser is refused either by the rule (409) or, when the winner's demotion committed
    // before its request was authorised, because it is no longer an admin (403).
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const admins = (await kit.call('GET', '/api/members', { session: ws.session, headers: ws.as })).body.items.filter((m: { role: string }) => m.role === 'admin');
    expect(admins).toHaveLength(1);
  });

  it('invites: a new account with a password, signed in at once; the link works once; an existing account is attached', async () => {
    const ws = await newWorkspace();
    const email = uniqueEmail('newbie');
    const invite = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { email, role: 'operator' } });
    expect(invite.status).toBe(201);
    const token = tokenOf(invite.body.url);
    expect(invite.body.url).toContain('/accept-invite#token=');
    expect((await kit.call('GET', '/api/invites', { session: ws.session, headers: ws.as })).body.items).toMatchObject([{ id: invite.body.id, email, role: 'operator' }]);
    const peek = await kit.call('GET', `/api/auth/invites/${token}`, { token: null });
    expect(peek.body).toMatchObject({ email, role: 'operator' });
    expect((await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token } })).status).toBe(422); // no password yet
    expect((await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token, password: 'short' } })).status).toBe(422);
    expect((await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token, email: 'other@x.test', password: PASSWORD } })).status).toBe(422);
    const accepted = await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token, password: PASSWORD } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ created: true, role: 'operator', workspaceId: ws.id });
    const me = await kit.call('GET', '/api/me', { session: sessionOf(accepted.headers)! });
    expect(me.body).toMatchObject({ user: { email }, role: 'operator' });
    expect((await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token, password: PASSWORD } })).status).toBe(410);
    expect((await kit.call('GET', `/api/auth/invites/${token}`, { token: null })).status).toBe(410);
    await signIn(kit, email);

    // Someone with an account elsewhere: the link alone does not sign anyone into it (its
    // creator holds the link too); signed in as that person, it is attached, no password asked.
    const existing = await person(kit, `elsewhere-${uniqueEmail('x')}`, 'admin');
    const second = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { email: existing.toUpperCase(), role: 'viewer' } });
    const byLinkAlone = await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(second.body.url) } });
    expect(byLinkAlone.status).toBe(409);
    expect(byLinkAlone.body.error.code).toBe('sign_in_needed');
    expect(sessionOf(byLinkAlone.headers)).toBeUndefined();
    const open = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { role: 'admin' } });
    const claimed = await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(open.body.url), email: existing, password: 'anything at all 123' } });
    expect(claimed.status).toBe(409);
    const asSomeoneElse = await kit.call('POST', '/api/auth/invites/accept', { token: null, session: ws.session, headers: { origin: 'http://localhost' }, body: { token: tokenOf(second.body.url) } });
    expect(asSomeoneElse.status).toBe(409); // signed in as the inviter: the invite names someone else's account
    const existingSession = await signIn(kit, existing);
    const foreign = await kit.call('POST', '/api/auth/invites/accept', { token: null, session: existingSession, headers: { origin: 'https://evil.test' }, body: { token: tokenOf(second.body.url) } });
    expect(foreign.status).toBe(403);
    const attached = await kit.call('POST', '/api/auth/invites/accept', { token: null, session: existingSession, headers: { origin: 'http://localhost' }, body: { token: tokenOf(second.body.url) } });
    expect(attached.status).toBe(200);
    expect(attached.body).toMatchObject({ created: false, role: 'viewer' });
    expect(sessionOf(attached.headers)).toBeUndefined(); // the session they had goes on
    expect((await kit.call('GET', '/api/me', { session: existingSession })).body.workspaces).toHaveLength(2);
    // An open invite, signed in: the account is theirs, no email needed.
    const openForMe = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { role: 'operator' } });
    const mine = await kit.call('POST', '/api/auth/invites/accept', { token: null, session: existingSession, headers: { origin: 'http://localhost' }, body: { token: tokenOf(openForMe.body.url) } });
    expect(mine.body).toMatchObject({ created: false, role: 'operator', user: { email: existing } });

    // A revoked invite stops at once; an expired one too.
    const revoked = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { role: 'viewer' } });
    expect((await kit.call('DELETE', `/api/invites/${revoked.body.id}`, { session: ws.session, headers: ws.as })).status).toBe(204);
    expect((await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(revoked.body.url), email: uniqueEmail('r'), password: PASSWORD } })).status).toBe(410);
    const late = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { role: 'viewer' } });
    kit.clock.advance(7 * 86_400_000 + 1000);
    expect((await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(late.body.url), email: uniqueEmail('l'), password: PASSWORD } })).status).toBe(410);
  });

  it('removes a member: their session stays but no longer reaches the workspace', async () => {
    const ws = await newWorkspace();
    const invite = await kit.call('POST', '/api/invites', { session: ws.session, headers: ws.as, body: { role: 'operator' } });
    const accepted = await kit.call('POST', '/api/auth/invites/accept', { token: null, body: { token: tokenOf(invite.body.url), email: uniqueEmail('gone'), password: PASSWORD } });
    const session = sessionOf(accepted.headers)!;
    expect((await kit.call('GET', '/api/leads', { session, headers: ws.as })).status).toBe(200);
    expect((await kit.call('DELETE', `/api/members/${accepted.body.user.id}`, { session: ws.session, headers: ws.as })).status).toBe(204);
    expect((await kit.call('GET', '/api/leads', { session, headers: ws.as })).status).toBe(403);
  });

  it('password links set a password once, end the other sessions, and sign in', async () => {
    const email = await person(kit, `reset-${uniqueEmail('r')}`, 'viewer');
    const old = await signIn(kit, email);
    const me = await kit.call('GET', '/api/me', { session: old });
    const { url } = await kit.runtime.accounts.passwordLink(me.body.user.id, 'test');
    expect(url).toContain('/reset-password#token=');
    const token = tokenOf(url);
    expect((await kit.call('POST', '/api/auth/password', { token: null, body: { token, password: 'short' } })).status).toBe(422);
    const set = await kit.call('POST', '/api/auth/password', { token: null, body: { token, password: 'a brand new password' } });
    expect(set.status).toBe(200);
    expect(sessionOf(set.headers)).toBeDefined();
    expect((await kit.call('GET', '/api/me', { session: old })).status).toBe(401);
    expect((await kit.call('POST', '/api/auth/password', { token: null, body: { token, password: 'another new password' } })).status).toBe(410);
    await signIn(kit, email, 'a brand new password');
    // The embedded default sends no email: the answer says where a link comes from, for any address.
    const forgot = await kit.call('POST', '/api/auth/password-reset', { token: null, body: { email } });
    expect(forgot.status).toBe(202);
    expect(forgot.body).toMatchObject({ mailed: false, message: expect.stringContaining('touchpoint users reset-password') });
    const stored = await kit.db.query<{ hash: string }>('select password_hash as hash from users where lower(email) = lower($1)', [email]);
    expect(stored[0]!.hash).toMatch(/^\$argon2id\$/);
  });
});
