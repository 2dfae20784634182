/**
 * Single sign-on in the browser: a real OpenID provider (`oidc-provider` on 127.0.0.1,
 * test/helpers/oidcProvider.ts) and Touchpoint configured with OIDC_ISSUER/CLIENT_ID/SECRET
 * pointing at it, driven by Debian's Chromium. The sign-in page offers "Sign in with SSO"; the
 * person fills in the provider's own login and consent pages and lands signed in on the dashboard.
 * Someone with no account and no invite comes back to the sign-in page with the human sentence
 * (never the bare code); someone with an open invite gets their account in one go. axe checks the
 * sign-in page with the SSO door and with the refusal.
 */
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { SSO_ERRORS } from '../../src/core/ssoErrors.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { startOidcProvider, type TestProvider } from '../helpers/oidcProvider.ts';
import { seriousA11yViolations } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, type Browser } from './browser.ts';

const run = browserAvailable();

/** A port free right now: the provider must know Touchpoint's redirect URI before Touchpoint listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!run)('single sign-on in a browser', () => {
  let provider: TestProvider;
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  const consoleErrors: string[] = [];
  const a11yViolations: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) a11yViolations.push(`${name}: ${violation}`);
  };

  beforeAll(async () => {
    buildDashboard();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({ redirectUri: `${baseUrl}/api/auth/oidc/callback` });
    provider.account('ada', { email: 'ada@team.test', email_verified: true, name: 'Ada Lovelace' });
    provider.account('carol', { email: 'Carol@team.test', email_verified: true, name: 'Carol Shaw' });
    provider.account('stranger', { email: 'stranger@team.test', email_verified: true, name: 'Someone Else' });
    const db = await openMemoryDatabase();
    runtime = await createRuntime(
      parseConfig({
        LOG_LEVEL: 'silent',
        // Links, the redirect URI and the Origin check name where the browser opens Touchpoint.
        PUBLIC_URL: baseUrl,
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_ALLOWED_DOMAINS: 'team.test',
      }),
      { db, worker: false },
    );
    await runtime.app.listen({ port, host: '127.0.0.1' });
    const { workspace } = await runtime.accounts.createUser({ email: 'ada@team.test', workspace: 'Acme Sales', role: 'admin', password: 'correct horse battery' });
    await runtime.accounts.invite({ workspaceId: workspace.id, role: 'operator', email: 'carol@team.test', createdBy: 'ada@team.test' });
    browser = await launchBrowser();
    // The provider's development pages import a web font: no network in tests.
    await browser.context.route(/fonts\.googleapis\.com/, (route) => route.abort());
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    // The aborted font (on the provider's page) is logged as "Failed to load resource"; anything else is a bug.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) consoleErrors.push(message.text());
    });
  }, 180_000);

  afterEach(() => {
    expect(consoleErrors.splice(0), 'console errors').toEqual([]);
    expect(a11yViolations.splice(0), 'serious accessibility violations (axe-core)').toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
    await provider?.close();
  });

  const failureShot = (name: string) =>
    onTestFailed(async () => {
      const path = join(tmpdir(), `touchpoint-e2e-${name}-failure.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      console.error(`The page at the failure: ${path}`);
    });

  /** From our sign-in page through the provider's login (and consent, the first time) back to us. */
  const signInAtProvider = async (login: string) => {
    await page.goto(baseUrl);
    await page.getByRole('heading', { name: 'Sign in to Touchpoint' }).waitFor();
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL((url) => url.href.startsWith(provider.issuer));
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    // The consent page, unless the provider sends the browser straight back.
    const consent = page.getByRole('button', { name: 'Continue' });
    await Promise.race([consent.waitFor().then(() => consent.click()), page.waitForURL((url) => url.href.startsWith(baseUrl))]);
    await page.waitForURL((url) => url.href.startsWith(baseUrl));
  };

  it('refuses someone with no account and no invite with the sentence, not the code', async () => {
    failureShot('sso-refused');
    await page.goto(baseUrl);
    await page.getByRole('link', { name: 'Sign in with SSO' }).waitFor();
    await accessible('sign-in with SSO');
    await signInAtProvider('stranger');
    expect(new URL(page.url()).searchParams.get('sso_error')).toBe('sso_no_account');
    const refusal = page.getByRole('alert').filter({ hasText: 'Single sign-on did not sign you in' });
    await refusal.filter({ hasText: SSO_ERRORS.sso_no_account }).waitFor();
    expect(await refusal.innerText()).not.toContain('sso_no_account');
    // Still the sign-in page: nobody is signed in.
    await page.getByRole('heading', { name: 'Sign in to Touchpoint' }).waitFor();
    expect((await page.request.get(`${baseUrl}/api/me`)).status()).toBe(401);
    await accessible('sign-in after an SSO refusal');
  });

  it('signs a person in through the provider and lands on the dashboard of their workspace', async () => {
    failureShot('sso-sign-in');
    await browser.context.clearCookies(); // the provider would remember "stranger"
    await signInAtProvider('ada');
    await page.getByTestId('workspace-name').filter({ hasText: 'Acme Sales' }).waitFor();
    await page.getByTestId('role').filter({ hasText: 'admin' }).waitFor();
    const me = await page.request.get(`${baseUrl}/api/me`);
    expect(me.status()).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe('ada@team.test');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Touchpoint' }).waitFor();
  });

  it('creates the account of someone with an open invite, with the invite’s role, in one go', async () => {
    failureShot('sso-invite');
    await browser.context.clearCookies();
    await signInAtProvider('carol');
    await page.getByTestId('workspace-name').filter({ hasText: 'Acme Sales' }).waitFor();
    await page.getByTestId('role').filter({ hasText: 'operator' }).waitFor();
    const me = (await (await page.request.get(`${baseUrl}/api/me`)).json()) as { user: { email: string; name: string | null } };
    // The invite named carol@team.test, the provider says Carol@team.test: emails match whatever their case.
    expect(me.user).toMatchObject({ email: expect.stringMatching(/^carol@team\.test$/i), name: 'Carol Shaw' });
  });
});
