/**
 * Issue 18, "an endpoint disabled (and its admins told on the dashboard)", in Debian's Chromium:
 * a receiver answers 410, the deliverer disables its endpoint, and the admin — on the Leads page,
 * without reloading — sees a count on the Webhooks item of the navigation and a banner on every
 * page but Webhooks (which shows its own), brought by the live stream's `webhook` notice. The
 * banner can be dismissed (it stays dismissed across a reload) and comes back for a later
 * disabling; enabling the endpoint clears the count. An operator sees neither. axe-core on the
 * pages with the notice, no page errors. Waits are on visible states, never a fixed sleep.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { startReceiver, type Receiver } from '../helpers/webhookReceiver.ts';
import { seriousA11yViolations } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();

describe.skipIf(!run)('admins are told on every page when an endpoint is disabled', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let admin: string;
  let operator: string;
  let receiver: Receiver;
  let endpointId: string;
  const problems: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  /** A test event the receiver answers 410: the deliverer disables the endpoint ("gone"). */
  const disableByReceiver = async () => {
    expect((await api('POST', `/api/webhook-endpoints/${endpointId}/test`)).status).toBe(202);
    await runtime.deliverer.drain();
    expect((await api('GET', '/api/webhook-endpoints')).body.items[0]).toMatchObject({ enabled: false, disabledReason: 'gone' });
  };
  const notice = () => page.getByTestId('webhook-disabled-notice');
  const count = () => page.getByTestId('webhook-disabled-count');
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: 'cd'.repeat(32), WEBHOOKS_ALLOW_PRIVATE: 'true' }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    admin = (await createToken(runtime.db, workspace.id, 'admin', 'e2e webhook notice')).token;
    operator = (await createToken(runtime.db, workspace.id, 'operator', 'e2e webhook notice')).token;
    receiver = await startReceiver();
    receiver.respond = () => 410;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    watchPage(page, problems);
  }, 180_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
  });

  it('shows the count and the banner as the endpoint is disabled, on every page but Webhooks; dismissed, it stays away', async () => {
    await signInWithToken(page, baseUrl, admin);
    await page.getByRole('heading', { name: 'Leads', exact: true }).waitFor();
    const created = await api('POST', '/api/webhook-endpoints', { url: receiver.url, events: ['*'], description: 'CRM sync' });
    expect(created.status).toBe(201);
    endpointId = created.body.id;
    receiver.secrets = [created.body.secret];
    expect(await notice().count()).toBe(0);

    // Disabled while the admin looks at the leads: the live notice brings the banner, no reload.
    await disableByReceiver();
    await notice().waitFor();
    expect(await notice().innerText()).toContain(`${receiver.url} was turned off: the receiver answered 410 Gone`);
    await page.getByRole('link', { name: 'Webhooks 1 endpoint disabled' }).waitFor();
    expect(await count().innerText()).toContain('1');
    await accessible('leads with the notice');

    await nav('Sequences');
    await page.getByRole('heading', { name: 'Sequences', exact: true }).waitFor();
    await notice().waitFor();
    await notice().getByRole('button', { name: 'Dismiss' }).click();
    await notice().waitFor({ state: 'detached' });
    // Still dismissed after a reload (this tab's session); the count stays.
    await page.reload();
    await count().waitFor();
    await nav('Tasks');
    await page.getByRole('heading', { name: 'Tasks' }).first().waitFor();
    expect(await notice().count()).toBe(0);

    // The Webhooks page shows its own banner for the endpoint, not the notice.
    await nav('Webhooks');
    await page.getByTestId('webhook-disabled-banner').waitFor();
    expect(await notice().count()).toBe(0);
    await accessible('webhooks with a disabled endpoint');
  }, 120_000);

  it('clears the count when the endpoint is enabled, and shows the banner again for a later disabling', async () => {
    await page.getByTestId('webhook-endpoint').getByRole('button', { name: 'Enable' }).click();
    await count().waitFor({ state: 'detached' });
    await nav('Leads');
    await page.getByRole('heading', { name: 'Leads', exact: true }).waitFor();
    await disableByReceiver();
    // Another disabling than the one dismissed: the banner is back.
    await notice().waitFor();
    await count().waitFor();
  }, 120_000);

  it('tells an operator nothing (admins act on endpoints)', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithToken(page, baseUrl, operator);
    await page.getByRole('heading', { name: 'Leads', exact: true }).waitFor();
    // The operator reads the endpoint on the Webhooks page, disabled, yet gets no count or notice.
    await nav('Webhooks');
    await page.getByTestId('webhook-disabled-banner').waitFor();
    expect(await count().count()).toBe(0);
    await nav('Leads');
    await page.getByRole('heading', { name: 'Leads', exact: true }).waitFor();
    expect(await notice().count()).toBe(0);
    expect(await count().count()).toBe(0);
  }, 120_000);
});
