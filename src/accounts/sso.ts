/**
 * Single sign-on with OpenID Connect (docs/ACCOUNTS.md, "Single sign-on"): the authorization
 * code flow with PKCE, a nonce and a state, through `openid-client` (which validates the ID
 * token: signature, issuer, audience, expiry, nonce). What the callback must check is kept on
 * the server (src/db/oidcLogins.ts), taken once, and bound to the browser that started.
 *
 * A person is matched by an email the provider says is verified: an existing account signs in;
 * an unknown email needs an open invite addressed to it (or the just-in-time setting). The
 * routes (src/api/oidcRoutes.ts) turn every refusal into a dashboard URL with a code from
 * src/core/ssoErrors.ts, never a 500.
 */
import * as client from 'openid-client';
import type { SsoErrorCode } from '../core/ssoErrors.ts';
import type { Db } from '../db/db.ts';
import { openInvitesFor, takeInviteById } from '../db/accountLinks.ts';
import { deleteExpiredOidcLogins, insertOidcLogin, takeOidcLogin } from '../db/oidcLogins.ts';
import { addMembership, ensureUser, findUserByEmail, type User } from '../db/users.ts';
import { findWorkspaceByName, type Role } from '../db/workspaces.ts';
import { hashSecret } from './secrets.ts';

export const SSO_START_PATH = '/api/auth/oidc/start';
export const SSO_CALLBACK_PATH = '/api/auth/oidc/callback';
/** `email` for the address and its verification, `profile` for the name a new account gets. */
export const SSO_SCOPES = 'openid email profile';
/** How long a person has at the provider between the redirect and the callback. */
export const SSO_ATTEMPT_TTL_MS = 10 * 60_000;

export interface SsoSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** `${PUBLIC_URL}/api/auth/oidc/callback`: registered with the provider as is. */
  redirectUri: string;
  /** Lower-case domains whose verified emails may sign in; empty = any. */
  allowedDomains: string[];
  /** Accounts made on first sign-in for an allowed domain (OIDC_JIT_WORKSPACE); undefined = refused. */
  justInTime?: { workspace: string; role: Role };
  /** Each request to the provider gives up after this long. */
  timeoutSeconds?: number;
}

/** `reason` is for the log (never a token, code or secret); `code` is what the person is shown. */
export type SsoRefusal = { ok: false; code: SsoErrorCode; reason: string };
export type SsoStart = { ok: true; url: string } | SsoRefusal;
export type SsoFinish = { ok: true; user: User; created: boolean; joined: Array<{ workspaceId: string; role: Role }> } | SsoRefusal;

const refuse = (code: SsoErrorCode, reason: string): SsoRefusal => ({ ok: false, code, reason });
const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}\.[^\s@]{1,60}$/;

export function createSso(db: Db, settings: SsoSettings, now: () => Date) {
  const insecure = new URL(settings.issuer).protocol === 'http:'; // loopback only (config.ts checks)
  let configuration: Promise<client.Configuration> | undefined;

  /** The provider's metadata, fetched once; a failure is not kept, so the next sign-in retries. */
  function provider(): Promise<client.Configuration> {
    configuration ??= discover().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  }

  async function discover(): Promise<client.Configuration> {
    const options = { timeout: settings.timeoutSeconds ?? 10, execute: insecure ? [client.allowInsecureRequests] : [] };
    const found = await client.discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret, undefined, options);
    // The client authenticates as the provider prefers: HTTP Basic is the standard's default
    // (and what a provider that lists no methods means); POST when only that is offered.
    const methods = found.serverMetadata().token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    const auth = !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
      ? client.ClientSecretPost(settings.clientSecret)
      : client.ClientSecretBasic(settings.clientSecret);
    const configured = new client.Configuration(found.serverMetadata(), settings.clientId, settings.clientSecret, auth);
    configured.timeout = options.timeout;
    if (insecure) client.allowInsecureRequests(configured);
    return configured;
  }

  return {
    settings,

    /**
     * Where to send the browser: the provider's authorization endpoint with a fresh state,
     * nonce and PKCE challenge. `browser` is the value of the browser's binding cookie.
     */
    async start(browser: string): Promise<SsoStart> {
      let config: client.Configuration;
      try {
        config = await provider();
      } catch (error) {
        return refuse('sso_unavailable', `discovery of ${settings.issuer} failed: ${describe(error)}`);
      }
      const state = client.randomState();
      const nonce = client.randomNonce();
      const codeVerifier = client.randomPKCECodeVerifier();
      const at = now();
      await deleteExpiredOidcLogins(db, at);
      await insertOidcLogin(db, { stateHash: hashSecret(state), browserHash: hashSecret(browser), codeVerifier, nonce, now: at, expiresAt: new Date(at.getTime() + SSO_ATTEMPT_TTL_MS) });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        scope: SSO_SCOPES,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      return { ok: true, url: url.href };
    },

    /**
     * The provider's answer at the callback (`callbackUrl`: the redirect URI with the query the
     * browser brought). The attempt is taken (deleted) first, so a callback URL works once.
     */
    async finish(callbackUrl: URL, browser: string | undefined): Promise<SsoFinish> {
      const state = callbackUrl.searchParams.get('state');
      if (!state || state.length > 200) return refuse('sso_state_invalid', 'the callback carries no state');
      const attempt = await takeOidcLogin(db, hashSecret(state));
      if (!attempt) return refuse('sso_state_invalid', 'unknown or already used state');
      if (attempt.expiresAt.getTime() <= now().getTime()) return refuse('sso_state_invalid', 'the attempt expired');
      if (!browser || hashSecret(browser) !== attempt.browserHash) return refuse('sso_state_invalid', 'the attempt was started in another browser');
      const error = callbackUrl.searchParams.get('error');
      if (error) return refuse('sso_denied', `the provider answered error=${error.slice(0, 80)}`);

      let config: client.Configuration;
      try {
        config = await provider();
      } catch (failure) {
        return refuse('sso_unavailable', `discovery of ${settings.issuer} failed: ${describe(failure)}`);
      }
      let claims: Record<string, unknown>;
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: attempt.codeVerifier,
          expectedState: state,
          expectedNonce: attempt.nonce,
          idTokenExpected: true,
        });
        const idToken = tokens.claims()!;
        claims = { ...idToken };
        // Providers that keep the ID token small (Okta's org server, oidc-provider's default)
        // give the email at the userinfo endpoint; openid-client checks its `sub` is the token's.
        if ((typeof claims.email !== 'string' || verifiedFlag(claims) === undefined) && tokens.access_token) {
          // Where both carry a claim, the signed ID token's wins.
          claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...claims };
        }
      } catch (failure) {
        return refuse(unreachable(failure) ? 'sso_unavailable' : 'sso_failed', describe(failure));
      }
      return match(claims);
    },
  };

  /** The person behind verified claims: an account, an invite, or (if set) a new account. */
  async function match(claims: Record<string, unknown>): Promise<SsoFinish> {
    const email = typeof claims.email === 'string' ? claims.email.trim() : '';
    if (!EMAIL.test(email)) return refuse('sso_email_missing', 'the provider gave no usable email claim');
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (verifiedFlag(claims) !== true) return refuse('sso_email_unverified', `an unverified email at ${domain}`);
    if (settings.allowedDomains.length > 0 && !settings.allowedDomains.includes(domain)) {
      return refuse('sso_domain_not_allowed', `${domain} is not in OIDC_ALLOWED_DOMAINS`);
    }
    const existing = await findUserByEmail(db, email);
    if (existing) return { ok: true, user: existing, created: false, joined: [] };

    const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : undefined;
    const invites = await openInvitesFor(db, email, now());
    if (invites.length > 0) {
      const joined = await joinByInvites(email, name, invites.map((i) => i.id));
      if (joined) return joined;
    }
    if (settings.justInTime) {
      const workspace = await findWorkspaceByName(db, settings.justInTime.workspace);
      if (!workspace) return refuse('sso_no_account', `OIDC_JIT_WORKSPACE names no workspace ("${settings.justInTime.workspace}")`);
      const role = settings.justInTime.role;
      const user = await db.transaction(async (tx) => {
        const user = await ensureUser(tx, email, name);
        await addMembership(tx, workspace.id, user.id, role);
        return user;
      });
      return { ok: true, user, created: true, joined: [{ workspaceId: workspace.id, role }] };
    }
    return refuse('sso_no_account', `no account and no open invite for an email at ${domain}`);
  }

  /** Takes every open invite addressed to the email, in one transaction; undefined if none was left. */
  async function joinByInvites(email: string, name: string | undefined, ids: string[]): Promise<SsoFinish | undefined> {
    const none = new Error('every invite was taken meanwhile');
    try {
      return await db.transaction(async (tx) => {
        const user = await ensureUser(tx, email, name);
        const joined: Array<{ workspaceId: string; role: Role }> = [];
        for (const id of ids) {
          const taken = await takeInviteById(tx, id, now());
          if (taken) joined.push({ workspaceId: taken.workspaceId!, role: await addMembership(tx, taken.workspaceId!, user.id, taken.role!) });
        }
        if (joined.length === 0) throw none; // roll back the account made for nothing
        return { ok: true as const, user, created: true, joined };
      });
    } catch (error) {
      if (error === none) return undefined;
      throw error;
    }
  }
}

export type Sso = ReturnType<typeof createSso>;

/**
 * Whether the provider vouches for the email: `email_verified` (OpenID Connect; some providers
 * send it as a string), else Microsoft Entra ID's `xms_edov` (the email's domain is verified by
 * the tenant that owns it), which Entra sends instead when the optional claim is configured.
 */
function verifiedFlag(claims: Record<string, unknown>): boolean | undefined {
  const flag = claims.email_verified ?? claims.xms_edov;
  if (flag === true || flag === 'true' || flag === 1) return true;
  if (flag === false || flag === 'false' || flag === 0) return false;
  return undefined;
}

/** A network failure, a timeout or the provider's own 5xx: worth a retry, not a settings problem. */
function unreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    if (e instanceof TypeError && /fetch failed/i.test(e.message)) return true;
    if (typeof (e as { code?: unknown }).code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN)$/.test((e as { code: string }).code)) return true;
    if (e instanceof client.ResponseBodyError && e.status >= 500) return true;
    if (e instanceof Response && e.status >= 500) return true;
  }
  return false;
}

function describe(error: unknown): string {
  const e = error as Error & { code?: string; cause?: unknown };
  const cause = e?.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''}: ${e?.message ?? String(error)}${cause}`.slice(0, 300);
}
