/**
 * A real OpenID provider for the single sign-on tests: `oidc-provider` on 127.0.0.1 (a free
 * port), one confidential client registered with Touchpoint's redirect URI, and test accounts
 * whose claims the test chooses. `authorize` plays the person's browser at the provider with
 * plain HTTP: it follows the redirects with a cookie jar and fills in the provider's own login
 * and consent forms (its development interactions), until the provider redirects back to us.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// oidc-provider ships no types; the test needs only its constructor and `callback()`.
// @ts-expect-error -- untyped package
import Provider from 'oidc-provider';

export interface TestAccountClaims {
  email?: string;
  email_verified?: boolean | string;
  name?: string;
  xms_edov?: boolean;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Adds (or replaces) the account the login form accepts as `login`. */
  account(login: string, claims: TestAccountClaims): void;
  /**
   * From the authorization URL Touchpoint redirected to, signs in as `login` (and consents),
   * or cancels at the login form (`cancel`); answers the URL the provider sends back to us.
   */
  authorize(authorizationUrl: string, login: string, options?: { cancel?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startOidcProvider(options: { redirectUri: string; claimsInIdToken?: boolean }): Promise<TestProvider> {
  const accounts = new Map<string, TestAccountClaims>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'touchpoint-test';
  const clientSecret = 'a-client-secret-long-enough-for-the-test';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [options.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: async (_ctx: unknown, id: string) => {
      const claims = accounts.get(id);
      return claims && { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name'] },
    // By default (conform) the ID token of a code flow carries no email: Touchpoint reads userinfo.
    conformIdTokenClaims: !options.claimsInIdToken,
    cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    features: { devInteractions: { enabled: true } },
  });
  // Quiet: the provider's warnings about development keys and interactions are expected here.
  provider.on('server_error', () => undefined);
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    clientSecret,
    account: (login, claims) => void accounts.set(login, claims),
    async authorize(authorizationUrl, login, { cancel = false } = {}) {
      const jar = new Map<string, string>();
      let url = authorizationUrl;
      let form: URLSearchParams | undefined;
      for (let hop = 0; hop < 20; hop++) {
        if (url.startsWith(options.redirectUri)) return url;
        const response = await fetch(url, {
          method: form ? 'POST' : 'GET',
          redirect: 'manual',
          headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          body: form?.toString(),
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair!.indexOf('=');
          jar.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim());
        }
        form = undefined;
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location) {
          url = new URL(location, url).href;
          continue;
        }
        const html = await response.text();
        const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        if (response.status !== 200 || !prompt || !action) throw new Error(`the provider answered ${response.status} at ${url}: ${html.slice(0, 500)}`);
        if (cancel) {
          url = new URL(`${decode(action)}/abort`, url).href;
          continue;
        }
        url = new URL(decode(action), url).href;
        form = prompt === 'login' ? new URLSearchParams({ prompt, login, password: 'any' }) : new URLSearchParams({ prompt });
      }
      throw new Error('the provider never redirected back');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const decode = (html: string) => html.replace(/&#x2F;/g, '/').replace(/&#x3A;/gi, ':').replace(/&amp;/g, '&');
