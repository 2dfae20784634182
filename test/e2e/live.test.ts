/**
 * Live updates in Debian's Chromium (docs/DASHBOARD.md, "Live updates"): a lead page shows an
 * event posted through the API (by another client) within a few seconds, without waiting for the
 * polling fallback — while the stream is up pages poll only every 60 s, so the new entry can only
 * have come from its notice. The header's sign says Live; axe-core on the page; no page errors.
 * Waits are Playwright's auto-waiting on a visible state, never a fixed sleep.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();

describe.skipIf(!run)('live updates in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  const problems: string[] = [];
  const timelineReads: number[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
    return (await response.json()) as any;
  };

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent' }), { db, worker: true });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e live')).token;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    watchPage(page, problems);
    page.on('request', (request) => {
      if (/\/api\/leads\/[^/]+\/timeline/.test(request.url())) timelineReads.push(Date.now());
    });
  }, 180_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
  });

  it('shows an event posted through the API on the open lead page within seconds', async () => {
    const lead = await call('POST', '/api/leads', { email: 'ada@live.test', firstName: 'Ada', lastName: 'Lovelace' });
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: /Ada Lovelace/ }).waitFor();
    await page.locator('[data-testid="live-status"][data-live="on"]').waitFor();
    await expect.poll(() => page.getByTestId('live-status').textContent()).toBe('Live');
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe lead page (live): ${violation}`);

    const readsBefore = timelineReads.length;
    await call('POST', '/api/events', { leadId: lead.id, type: 'custom.visited_pricing', properties: { page: '/pricing' } });
    // With live updates on, the page's safety refetch comes once a minute (LIVE_SAFETY_MS): an
    // event shown well before that was brought by the notice, not by polling.
    await page.getByText('Custom event visited_pricing').first().waitFor({ timeout: 20_000 });
    // The page read its timeline again because of the notice: once or twice (a burst is one
    // refetch per key), not the 2-second polling it did before live updates.
    expect(timelineReads.length - readsBefore).toBeGreaterThanOrEqual(1);
    expect(timelineReads.length - readsBefore).toBeLessThanOrEqual(3);

    // A second change, a logged activity from another client, arrives the same way.
    await call('POST', `/api/leads/${lead.id}/activities`, { kind: 'note', body: 'Asked for the enterprise price list' });
    await page.getByText('Asked for the enterprise price list').first().waitFor({ timeout: 20_000 });
  }, 120_000);
});
