/**
 * Single sign-on's two browser routes (docs/ACCOUNTS.md, "Single sign-on"). Both are
 * navigations, not API calls: they answer redirects — to the provider, to the dashboard with a
 * session, or to the dashboard with `?sso_error=<code>` (src/core/ssoErrors.ts) — never JSON
 * and never a 500, so a person always lands on a page that says what happened.
 *
 * The attempt is bound to the browser by `tp_oidc`, a random value in an HttpOnly cookie
 * scoped to these routes: a callback URL made by someone else (login CSRF: signing the victim
 * into the attacker's account) fails for want of it. SameSite=Lax still sends it on the
 * provider's top-level redirect back.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SSO_CALLBACK_PATH, SSO_START_PATH, type Sso } from '../accounts/sso.ts';
import { newSecret } from '../accounts/secrets.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { SsoErrorCode } from '../core/ssoErrors.ts';
import { AddressFailures } from './auth.ts';
import { setSessionCookie } from './sessionCookie.ts';
import type { Api } from './wire.ts';

const BROWSER_COOKIE = 'tp_oidc';
const BROWSER_COOKIE_PATH = '/api/auth/oidc';
/** The browser cookie outlives the attempt a little (a slow provider page); the row decides. */
const BROWSER_COOKIE_SECONDS = 15 * 60;
/** Starts per client address per 10 minutes: an office behind one address signs in at 9:00. */
const STARTS_PER_ADDRESS = 100;
/** Where the dashboard lives; an error adds `?sso_error=<code>`. */
const DASHBOARD = '/';

export interface OidcRouteOptions {
  /** Undefined when OIDC is not configured: the routes then say so on the dashboard. */
  sso: Sso | undefined;
  accounts: Accounts;
  publicUrl: string | undefined;
  now: () => Date;
}

export function oidcRoutes(api: Api, options: OidcRouteOptions) {
  const starts = new AddressFailures(STARTS_PER_ADDRESS, 10 * 60_000);
  const docs = { tags: ['auth'], security: [] };

  api.get(
    SSO_START_PATH.replace(/^\/api/, ''),
    {
      schema: {
        ...docs,
        summary: 'Single sign-on: redirects the browser to the OpenID provider (authorization code with PKCE)',
        description:
          'A navigation, not an API call: answers 302 to the provider, or to the dashboard with `?sso_error=<code>` ' +
          '(sso_not_configured, sso_unavailable, sso_rate_limited). Sets the short-lived `tp_oidc` cookie that binds the attempt to this browser.',
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { sso } = options;
      if (!sso) return toDashboard(reply, 'sso_not_configured');
      if (starts.blockedFor(request.ip) > 0) return toDashboard(reply, 'sso_rate_limited');
      starts.fail(request.ip);
      // A second tab keeps the first tab's value, so both attempts stay good.
      const browser = browserCookieOf(request) ?? newSecret();
      const started = await sso.start(browser);
      if (!started.ok) {
        request.log.warn({ code: started.code, reason: started.reason }, 'single sign-on could not start');
        return toDashboard(reply, started.code);
      }
      reply.header('set-cookie', browserCookie(browser, BROWSER_COOKIE_SECONDS, options.publicUrl));
      return reply.redirect(started.url, 302);
    },
  );

  api.get(
    SSO_CALLBACK_PATH.replace(/^\/api/, ''),
    {
      schema: {
        ...docs,
        summary: "Single sign-on: the provider's redirect back; signs the person in and opens the dashboard",
        description:
          'Register `${PUBLIC_URL}/api/auth/oidc/callback` with the provider. Answers 302 to the dashboard with the session cookie set, ' +
          'or to the dashboard with `?sso_error=<code>` (sso_state_invalid, sso_denied, sso_unavailable, sso_failed, sso_email_missing, ' +
          'sso_email_unverified, sso_domain_not_allowed, sso_no_account). A callback URL works once.',
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { sso } = options;
      if (!sso) return toDashboard(reply, 'sso_not_configured');
      // The provider's answer as openid-client must see it: our registered redirect URI (not
      // whatever Host the request names) with the query the browser brought.
      const callbackUrl = new URL(sso.settings.redirectUri);
      callbackUrl.search = new URL(request.url, 'http://callback.invalid').search;
      const finished = await sso.finish(callbackUrl, browserCookieOf(request));
      if (!finished.ok) {
        request.log.warn({ code: finished.code, reason: finished.reason }, 'single sign-on refused');
        return toDashboard(reply, finished.code);
      }
      const session = await options.accounts.startSession(finished.user, { address: request.ip, userAgent: request.headers['user-agent'] });
      setSessionCookie(reply, session.sessionToken, session.expiresAt, options.publicUrl, options.now());
      request.log.info({ userId: finished.user.id, sessionId: session.sessionId, created: finished.created, joined: finished.joined }, 'signed in with single sign-on');
      return reply.redirect(DASHBOARD, 302);
    },
  );
}

function toDashboard(reply: FastifyReply, code: SsoErrorCode) {
  return reply.redirect(`${DASHBOARD}?sso_error=${code}`, 302);
}

function browserCookieOf(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === BROWSER_COOKIE) {
      const value = part.slice(at + 1).trim();
      return /^[A-Za-z0-9_-]{32,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

function browserCookie(value: string, maxAge: number, publicUrl: string | undefined): string {
  const secure = publicUrl?.startsWith('https:') ? '; Secure' : '';
  return `${BROWSER_COOKIE}=${value}; Max-Age=${maxAge}; Path=${BROWSER_COOKIE_PATH}; HttpOnly; SameSite=Lax${secure}`;
}
