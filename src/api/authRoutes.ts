/**
 * Sign-in and the one-time links, under `/api/auth` — the only `/api` routes that need no
 * credentials (they are in their own scope, outside the auth hook). Login answers the same for
 * an unknown email and a wrong password; failures are limited per address (429) and per email
 * (a lockout, 423 with Retry-After); a password or session id never reaches a log line (the
 * request logger writes no bodies and no cookie headers).
 */
import { z } from 'zod';
import type { Accounts } from '../accounts/accounts.ts';
import { PASSWORD_MAX } from '../accounts/passwords.ts';
import { AddressFailures, type SessionAuth } from './auth.ts';
import { clearSessionCookie, csrfProblem, sessionCookieOf, setSessionCookie } from './sessionCookie.ts';
import { ROLES } from '../db/workspaces.ts';
import { errorSchema, fail, type Api } from './wire.ts';

const LOGIN_WINDOW_MS = 15 * 60_000;
const email = z.string().trim().min(3).max(320);
const password = z.string().min(1).max(PASSWORD_MAX);
const linkToken = z.string().min(10).max(100);
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 410: errorSchema, 422: errorSchema, 423: errorSchema, 429: errorSchema };
const userSchema = z.object({ id: z.string(), email: z.string(), name: z.string().nullable() });

export interface AuthRouteOptions extends SessionAuth {
  loginAddressLimit: number;
  now: () => Date;
  /** Where the sign-in page's "Sign in with SSO" goes (a navigation), or null without SSO. */
  ssoStartUrl: string | null;
}


export function authRoutes(api: Api, options: AuthRouteOptions) {
  const accounts: Accounts = options.accounts;
  const addresses = new AddressFailures(options.loginAddressLimit, LOGIN_WINDOW_MS);

  api.get(
    '/auth/options',
    {
      schema: {
        summary: 'How this deployment signs people in (for the sign-in page)',
        description: '`ssoStartUrl`, when SSO is configured, is where "Sign in with SSO" navigates (the browser follows redirects from there; not a fetch).',
        tags: ['auth'],
        security: [],
        response: { 200: z.object({ password: z.boolean(), sso: z.boolean(), ssoStartUrl: z.string().nullable() }) },
      },
    },
    async () => ({ password: true, sso: options.ssoStartUrl !== null, ssoStartUrl: options.ssoStartUrl }),
  );

  api.post(
    '/auth/login',
    {
      schema: {
        summary: 'Sign in with email and password; sets the session cookie',
        tags: ['auth'],
        security: [],
        body: z.strictObject({ email, password }),
        response: { 200: z.object({ user: userSchema, expiresAt: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      // A login form posted from another site would sign the victim into the attacker's account.
      if (request.headers.origin || request.headers.referer) {
        const forged = csrfProblem(request, options.publicUrl);
        if (forged) return fail(reply, 403, 'csrf', forged);
      }
      const wait = addresses.blockedFor(request.ip);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        reply.header('retry-after', String(seconds));
        return fail(reply, 429, 'rate_limited', `Too many failed sign-ins from this address; try again in ${Math.ceil(seconds / 60)} min.`);
      }
      const result = await accounts.login({ ...request.body, address: request.ip, userAgent: request.headers['user-agent'] });
      if (!result.ok) {
        addresses.fail(request.ip);
        if (result.reason === 'locked') {
          reply.header('retry-after', String(result.retryAfterSeconds));
          return fail(reply, 423, 'locked', `Too many failed sign-ins for this email: it is locked for ${Math.ceil(result.retryAfterSeconds / 60)} min. Reset the password, or wait.`);
        }
        return fail(reply, 401, 'invalid_credentials', 'The email or the password is wrong.');
      }
      setSessionCookie(reply, result.sessionToken, result.expiresAt, options.publicUrl, options.now());
      request.log.info({ userId: result.user.id, sessionId: result.sessionId }, 'signed in');
      return { user: { id: result.user.id, email: result.user.email, name: result.user.name }, expiresAt: result.expiresAt.toISOString() };
    },
  );

  api.post(
    '/auth/logout',
    { schema: { summary: 'Sign out: the session ends on the server and the cookie is cleared', tags: ['auth'], security: [], response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const cookie = sessionCookieOf(request);
      if (cookie) {
        const forged = csrfProblem(request, options.publicUrl);
        if (forged) return fail(reply, 403, 'csrf', forged);
        const session = await accounts.session(cookie);
        if (session) await accounts.logout(session.id);
      }
      clearSessionCookie(reply, options.publicUrl);
      return reply.status(204).send(null);
    },
  );

  api.get(
    '/auth/invites/:token',
    {
      schema: {
        summary: 'What an invite link offers (for the accept page)',
        tags: ['auth'],
        security: [],
        params: z.object({ token: linkToken }),
        response: { 200: z.object({ workspace: z.string(), role: z.enum(ROLES), email: z.string().nullable(), expiresAt: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const link = await accounts.peekLink(request.params.token);
      if (!link || link.kind !== 'invite') return fail(reply, 410, 'link_gone', 'This invite link is unknown, used, revoked or expired; ask an admin for a new one.');
      return { workspace: link.workspaceName!, role: link.role!, email: link.email, expiresAt: link.expiresAt.toISOString() };
    },
  );

  api.post(
    '/auth/invites/accept',
    {
      schema: {
        summary: 'Accept an invite: creates the account (with a password), or adds the workspace to the signed-in person\'s; signs in',
        description:
          'An email that already has an account is attached only for that person signed in (their session cookie): the link alone never signs anyone into an existing account (409 `sign_in_needed`).',
        tags: ['auth'],
        security: [],
        body: z.strictObject({ token: linkToken, email: email.optional(), password: password.optional(), name: z.string().trim().min(1).max(200).optional() }),
        response: { 200: z.object({ user: userSchema, workspaceId: z.string(), role: z.enum(ROLES), created: z.boolean() }), ...errors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const cookie = sessionCookieOf(request);
      const current = cookie ? await accounts.session(cookie) : undefined;
      if (current) {
        const forged = csrfProblem(request, options.publicUrl);
        if (forged) return fail(reply, 403, 'csrf', forged);
      }
      const signedInAs = current ? { userId: current.userId, email: current.email } : undefined;
      const result = await accounts.acceptInvite({ ...request.body, signedInAs });
      if (!result.ok) {
        const status = result.reason === 'invalid_link' ? 410 : result.reason === 'sign_in_needed' ? 409 : 422;
        return fail(reply, status, result.reason, result.message);
      }
      // The person who was signed in keeps their session; a new account gets its first one.
      if (result.user.id !== current?.userId) {
        const session = await accounts.startSession(result.user, { address: request.ip, userAgent: request.headers['user-agent'] });
        setSessionCookie(reply, session.sessionToken, session.expiresAt, options.publicUrl, options.now());
      }
      const user = { id: result.user.id, email: result.user.email, name: result.user.name };
      return { user, workspaceId: result.workspaceId, role: result.role, created: result.created };
    },
  );

  api.post(
    '/auth/password-reset',
    {
      schema: {
        summary: 'Forgot password: e-mails a one-time link through a mailbox of the account\'s workspace or an email provider, when one is configured',
        tags: ['auth'],
        security: [],
        body: z.strictObject({ email }),
        response: { 202: z.object({ mailed: z.boolean(), message: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      // The send runs after the answer: its success, failure or absence (an unknown email) must
      // not show in the answer or its timing. Failures are logged, never the link.
      const { mailed, delivery } = await accounts.requestPasswordReset(request.body.email);
      void delivery.catch((error: unknown) => request.log.error({ err: error }, 'password reset email not sent'));
      const message = mailed
        ? 'If an account has this email, a link to set a new password is on its way (valid 24 hours). Nothing after a few minutes? Ask an admin or whoever runs Touchpoint for a link.'
        : 'This deployment sends no email: ask whoever runs Touchpoint for a link: they print one with `npx touchpoint users reset-password --email …`.';
      return reply.status(202).send({ mailed, message });
    },
  );

  api.post(
    '/auth/password',
    {
      schema: {
        summary: 'Set a password with a one-time link; ends the other sessions and signs in',
        tags: ['auth'],
        security: [],
        body: z.strictObject({ token: linkToken, password }),
        response: { 200: z.object({ user: userSchema }), ...errors },
      },
    },
    async (request, reply) => {
      const result = await accounts.setPasswordWithLink(request.body.token, request.body.password);
      if (!result.ok) return fail(reply, result.message.startsWith('This link') ? 410 : 422, result.message.startsWith('This link') ? 'link_gone' : 'weak_password', result.message);
      const session = await accounts.startSession(result.user, { address: request.ip, userAgent: request.headers['user-agent'] });
      setSessionCookie(reply, session.sessionToken, session.expiresAt, options.publicUrl, options.now());
      return { user: { id: result.user.id, email: result.user.email, name: result.user.name } };
    },
  );
}
