/**
 * Single sign-on end to end, on PGlite and PostgreSQL, against a real OpenID provider
 * (`oidc-provider` on 127.0.0.1, test/helpers/oidcProvider.ts): Touchpoint's start route sends
 * the browser there, the provider's login and consent forms are filled in over HTTP, and its
 * redirect comes back to our callback. Sign-in by verified email; refusals for an unverified
 * email, a foreign domain, an unknown person, a tampered or replayed or foreign-browser
 * callback, a code swapped between attempts (PKCE), a cancelled sign-in and a provider that is
 * down — each ending on the dashboard with its code, never a 500, and no code in the logs.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSO_ERRORS } from '../../src/core/ssoErrors.ts';
import { createApiKit, type ApiKit } from '../api/apiKit.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startOidcProvider, type TestProvider } from '../helpers/oidcProvider.ts';
import { person, uniqueEmail, workspaceOf } from './kit.ts';

const kinds = await databaseKinds();
/** PUBLIC_URL unset: links and the redirect URI name http://localhost:PORT (3000). */
const REDIRECT_URI = 'http://localhost:3000/api/auth/oidc/callback';

describe.each(kinds)('single sign-on on %s', (kind) => {
  let database: TestDatabase;
  let provider: TestProvider;
  let kit: ApiKit;
  let logs = '';
  let main: { id: string; name: string };

  const oidcEnv = (issuer: string, extra: Record<string, string> = {}) => ({
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_ALLOWED_DOMAINS: 'team.test, Example.org',
    ...extra,
  });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    provider = await startOidcProvider({ redirectUri: REDIRECT_URI });
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    kit = await createApiKit(database.db, { env: oidcEnv(provider.issuer), logger: pino({ level: 'trace' }, sink) });
    main = await workspaceOf(kit, kit.tokens.admin);
  });
  afterAll(async () => {
    await kit?.close();
    await provider?.close();
    await database?.close();
  });

  /** The start route: the provider's authorization URL and the browser-binding cookie. */
  async function start(on = kit, browserCookie?: string) {
    const response = await on.call('GET', '/api/auth/oidc/start', { token: null, headers: browserCookie ? { cookie: browserCookie } : {} });
    expect(response.status).toBe(302);
    const location = String(response.headers.location);
    const setCookie = response.headers['set-cookie'];
    const cookie = setCookie ? String(setCookie).split(';')[0]! : browserCookie;
    return { location, cookie, setCookie };
  }

  /** The provider's redirect delivered to our callback with the browser's cookie. */
  async function callback(callbackUrl: string, cookie: string | undefined, on = kit) {
    const path = callbackUrl.slice('http://localhost:3000'.length);
    const response = await on.call('GET', path, { token: null, headers: cookie ? { cookie } : {} });
    expect(response.status).toBe(302);
    const session = [response.headers['set-cookie']].flat().find((c): c is string => typeof c === 'string' && c.startsWith('tp_session='));
    return { location: String(response.headers.location), session: session?.split(';')[0]!.slice('tp_session='.length), setCookie: session };
  }

  async function signInWithSso(login: string, on = kit) {
    const started = await start(on);
    return callback(await provider.authorize(started.location, login), started.cookie, on);
  }

  it('GET /api/auth/options offers SSO and where it starts', async () => {
    const options = await kit.call('GET', '/api/auth/options', { token: null });
    expect(options.status).toBe(200);
    expect(options.body).toEqual({ password: true, sso: true, ssoStartUrl: '/api/auth/oidc/start' });
  });

  it('starts with code + PKCE (S256), a state, a nonce and the openid email profile scopes, bound to the browser by a cookie', async () => {
    const { location, setCookie } = await start();
    const url = new URL(location);
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(provider.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')?.length).toBeGreaterThanOrEqual(32);
    expect(url.searchParams.get('nonce')?.length).toBeGreaterThanOrEqual(32);
    expect(String(setCookie)).toMatch(/^tp_oidc=[A-Za-z0-9_-]{43}; Max-Age=900; Path=\/api\/auth\/oidc; HttpOnly; SameSite=Lax$/);
  });

  it('signs in an existing account by its verified email (any case): the session cookie, then the dashboard', async () => {
    const email = await person(kit, main.name, 'operator');
    provider.account('ada', { email: email.toUpperCase().replace('@TEAM.TEST', '@Team.Test'), email_verified: true, name: 'Ada' });
    const done = await signInWithSso('ada');
    expect(done.location).toBe('/');
    expect(done.setCookie).toMatch(/HttpOnly; SameSite=Lax$/);
    const me = await kit.call('GET', '/api/me', { session: done.session });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect(me.body).toMatchObject({ workspace: main, role: 'operator' });
  });

  it('refuses a replayed callback: the URL works once', async () => {
    const email = await person(kit, main.name, 'viewer');
    provider.account('replay', { email, email_verified: true });
    const started = await start();
    const back = await provider.authorize(started.location, 'replay');
    expect((await callback(back, started.cookie)).location).toBe('/');
    const again = await callback(back, started.cookie);
    expect(again.location).toBe('/?sso_error=sso_state_invalid');
    expect(again.session).toBeUndefined();
  });

  it('refuses a tampered state, and a callback brought by another browser (login CSRF)', async () => {
    const email = await person(kit, main.name, 'viewer');
    provider.account('tamper', { email, email_verified: true });
    const started = await start();
    const back = new URL(await provider.authorize(started.location, 'tamper'));
    const tampered = new URL(back);
    tampered.searchParams.set('state', `${back.searchParams.get('state')!.slice(0, -2)}xy`);
    expect(await callback(tampered.href, started.cookie)).toEqual({ location: '/?sso_error=sso_state_invalid', session: undefined, setCookie: undefined });
    // The real state, in a browser that did not start it (no cookie, or another one).
    expect((await callback(back.href, undefined)).location).toBe('/?sso_error=sso_state_invalid');
    const other = await start();
    expect((await callback(back.href, other.cookie)).location).toBe('/?sso_error=sso_state_invalid');
  });

  it('answers hostile callback queries with a redirect, never a 4xx/5xx page', async () => {
    const { cookie } = await start();
    const queries = ['', '?state=', '?state=a&state=b', `?state=${'x'.repeat(5000)}`, '?state=%ZZ%00', '?code=x', '?error=access_denied', '?state[]=1&code[x]=2'];
    for (const query of queries) {
      const response = await kit.call('GET', `/api/auth/oidc/callback${query}`, { token: null, headers: { cookie: cookie! } });
      expect(response.status, query).toBe(302);
      expect(response.headers.location, query).toBe('/?sso_error=sso_state_invalid');
    }
  });

  it("refuses one attempt's code delivered with another attempt's state (PKCE and nonce bind the code)", async () => {
    const email = await person(kit, main.name, 'viewer');
    provider.account('swap', { email, email_verified: true });
    const first = await start();
    const second = await start(kit, first.cookie); // a second tab: same browser cookie
    expect(second.cookie).toBe(first.cookie);
    const backFirst = new URL(await provider.authorize(first.location, 'swap'));
    const backSecond = new URL(await provider.authorize(second.location, 'swap'));
    const swapped = new URL(backSecond);
    swapped.searchParams.set('code', backFirst.searchParams.get('code')!);
    expect((await callback(swapped.href, first.cookie)).location).toBe('/?sso_error=sso_failed');
    // Both tabs' attempts were good on their own: the first still works.
    expect((await callback(backFirst.href, first.cookie)).location).toBe('/');
  });

  it('refuses an email the provider does not say is verified', async () => {
    const email = await person(kit, main.name, 'admin');
    provider.account('unverified', { email, email_verified: false });
    provider.account('silent', { email }); // no email_verified at all
    for (const login of ['unverified', 'silent']) {
      const done = await signInWithSso(login);
      expect(done.location).toBe('/?sso_error=sso_email_unverified');
      expect(done.session).toBeUndefined();
    }
    // Entra ID's claim for a verified email domain counts.
    provider.account('entra', { email, xms_edov: true });
    expect((await signInWithSso('entra')).location).toBe('/');
  });

  it('refuses a verified email outside OIDC_ALLOWED_DOMAINS, even with an account', async () => {
    const email = `${uniqueEmail('outsider').split('@')[0]}@elsewhere.test`;
    await kit.runtime.accounts.createUser({ email, workspace: main.name, role: 'viewer', password: 'correct horse battery' });
    provider.account('outsider', { email, email_verified: true });
    expect((await signInWithSso('outsider')).location).toBe('/?sso_error=sso_domain_not_allowed');
    // Every listed domain counts, whatever its case in the setting.
    const org = `${uniqueEmail('org').split('@')[0]}@example.org`;
    await kit.runtime.accounts.createUser({ email: org, workspace: main.name, role: 'viewer' });
    provider.account('org', { email: org, email_verified: 'true' });
    expect((await signInWithSso('org')).location).toBe('/');
  });

  it('refuses an unknown verified email, until an invite addressed to it exists: then the account is made and joins', async () => {
    const email = uniqueEmail('newcomer');
    provider.account('newcomer', { email, email_verified: true, name: 'New Comer' });
    expect((await signInWithSso('newcomer')).location).toBe('/?sso_error=sso_no_account');
    const invite = await kit.call('POST', '/api/invites', { body: { email, role: 'operator' } });
    expect(invite.status).toBe(201);
    const done = await signInWithSso('newcomer');
    expect(done.location).toBe('/');
    const me = await kit.call('GET', '/api/me', { session: done.session });
    expect(me.body.user).toMatchObject({ email, name: 'New Comer' });
    expect(me.body.workspaces).toEqual([{ id: main.id, name: main.name, role: 'operator' }]);
    // The invite is used up.
    expect((await kit.call('GET', '/api/invites')).body.items.map((i: { email: string }) => i.email)).not.toContain(email);
  });

  it('ends a cancelled sign-in on the dashboard with sso_denied', async () => {
    const started = await start();
    const back = await provider.authorize(started.location, 'nobody', { cancel: true });
    expect(new URL(back).searchParams.get('error')).toBe('access_denied');
    expect((await callback(back, started.cookie)).location).toBe('/?sso_error=sso_denied');
  });

  it('never logs the authorization code or the state; logs why a sign-in was refused', async () => {
    const email = await person(kit, main.name, 'viewer');
    provider.account('logged', { email, email_verified: true });
    const started = await start();
    const back = new URL(await provider.authorize(started.location, 'logged'));
    await callback(back.href, started.cookie);
    expect(logs).toContain('signed in with single sign-on');
    expect(logs).toContain('/api/auth/oidc/callback?[redacted]');
    expect(logs).not.toContain(back.searchParams.get('code')!);
    expect(logs).not.toContain(back.searchParams.get('state')!);
    expect(logs).not.toContain(started.cookie!.split('=')[1]!);
    expect(logs).toContain('sso_domain_not_allowed');
  });

  it('every code it sends has a sentence for the dashboard', () => {
    for (const code of logs.match(/sso_[a-z_]+/g) ?? []) if (code !== 'sso_error') expect(SSO_ERRORS).toHaveProperty(code);
  });

  describe('just-in-time accounts (OIDC_JIT_WORKSPACE)', () => {
    let jit: ApiKit;
    beforeAll(async () => {
      jit = await createApiKit(database.db, { env: oidcEnv(provider.issuer, { OIDC_JIT_WORKSPACE: main.name, OIDC_JIT_ROLE: 'operator' }) });
    });
    afterAll(async () => jit?.close());

    it('makes the account of an allowed domain in that workspace; other domains stay out', async () => {
      const email = uniqueEmail('jit');
      provider.account('jit', { email, email_verified: true });
      const done = await signInWithSso('jit', jit);
      expect(done.location).toBe('/');
      const me = await jit.call('GET', '/api/me', { session: done.session });
      expect(me.body.workspaces).toEqual([{ id: main.id, name: main.name, role: 'operator' }]);
      provider.account('jit-out', { email: 'someone@elsewhere.test', email_verified: true });
      expect((await signInWithSso('jit-out', jit)).location).toBe('/?sso_error=sso_domain_not_allowed');
    });
  });

  describe('a provider that does not answer', () => {
    it('ends the start on the dashboard with sso_unavailable', async () => {
      const gone = await startOidcProvider({ redirectUri: REDIRECT_URI });
      await gone.close(); // its port answers nothing now
      const down = await createApiKit(database.db, { env: oidcEnv(gone.issuer) });
      try {
        const response = await down.call('GET', '/api/auth/oidc/start', { token: null });
        expect(response.status).toBe(302);
        expect(response.headers.location).toBe('/?sso_error=sso_unavailable');
        expect(response.headers['set-cookie']).toBeUndefined();
      } finally {
        await down.close();
      }
    });

    it('ends the callback on the dashboard with sso_unavailable when the provider goes down meanwhile', async () => {
      const flaky = await startOidcProvider({ redirectUri: REDIRECT_URI, claimsInIdToken: true });
      const email = await person(kit, main.name, 'viewer');
      flaky.account('flaky', { email, email_verified: true });
      const on = await createApiKit(database.db, { env: oidcEnv(flaky.issuer) });
      try {
        // With the email in the ID token itself (no userinfo call) sign-in works…
        expect((await signInWithSsoAt(flaky, on, 'flaky')).location).toBe('/');
        // …and a provider gone between the redirect and the callback is a retry, not a 500.
        const started = await start(on);
        const back = await flaky.authorize(started.location, 'flaky');
        await flaky.close();
        expect((await callback(back, started.cookie, on)).location).toBe('/?sso_error=sso_unavailable');
      } finally {
        await on.close();
        await flaky.close();
      }
    });
  });

  async function signInWithSsoAt(at: TestProvider, on: ApiKit, login: string) {
    const started = await start(on);
    return callback(await at.authorize(started.location, login), started.cookie, on);
  }
});

describe('single sign-on not configured', () => {
  it('says so in /api/auth/options, and its routes end on the dashboard with sso_not_configured', async () => {
    const database = await openTestDatabase('pglite');
    const kit = await createApiKit(database.db);
    try {
      expect((await kit.call('GET', '/api/auth/options', { token: null })).body).toEqual({ password: true, sso: false, ssoStartUrl: null });
      for (const path of ['/api/auth/oidc/start', '/api/auth/oidc/callback?code=x&state=y']) {
        const response = await kit.call('GET', path, { token: null });
        expect(response.status).toBe(302);
        expect(response.headers.location).toBe('/?sso_error=sso_not_configured');
      }
    } finally {
      await kit.close();
      await database.close();
    }
  });
});
