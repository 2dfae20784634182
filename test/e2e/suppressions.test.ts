/**
 * Issue 17, item 6, in Debian's Chromium: the Suppressions page. An operator suppresses an email
 * (a refused address first, its sentence shown), a phone number on calls only and a whole domain;
 * filters the list; downloads it as CSV; imports a CSV (a bad row reported by line); deletes one
 * after a confirmation. A lead at the suppressed domain is then refused enrollment. axe-core on
 * the page and the dialog, no page errors, refused requests judged by their responses.
 * Waits are Playwright's auto-waiting on a visible state, never a fixed sleep.
 */
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations, untilOpaque } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, screenshot, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();
/** A field by its label, exactly, whether or not Mantine marks it required (" *"). */
const field = (scope: Locator | Page, label: string) => scope.getByLabel(new RegExp(`^${label}( \\*)?$`));
const ALL_DAY = { timezone: 'lead', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' };

describe.skipIf(!run)('the Suppressions page in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  const problems: string[] = [];
  const expectedRefusals: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };
  const api = async (path: string, body?: unknown) =>
    (
      await fetch(`${baseUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json() as Promise<any>;

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: 'cd'.repeat(32) }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'operator', 'e2e suppressions')).token;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    watchPage(page, problems, expectedRefusals);
  }, 180_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
    expect(expectedRefusals.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
  });

  it('adds an email, a phone on calls only and a domain (a refused address shown first), and filters the list', async () => {
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Suppressions' }).click();
    await page.getByText('No suppressions yet.').waitFor();
    await accessible('empty list');

    const form = page.getByRole('form', { name: 'Suppress an address' });
    await field(form, 'Email').fill('ada at example');
    await field(form, 'Reason').fill('Asked by phone');
    expectedRefusals.push('400 POST /api/suppressions');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await form.getByText('"ada at example" is not an email address.').waitFor();
    await accessible('a refused address');
    await field(form, 'Email').fill('Ada@Example.com');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await form.getByText('Suppressed ada@example.com (email).').waitFor();

    await field(form, 'What').click();
    await page.getByRole('option', { name: 'Phone' }).click();
    await field(form, 'Phone').fill('+1 415 555 0123');
    await field(form, 'Channels').click();
    await page.getByRole('option', { name: 'Calls only' }).click();
    await field(form, 'Reason').fill('No calls, texts are fine');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await form.getByText('Suppressed +14155550123 (voice).').waitFor();

    await field(form, 'What').click();
    await page.getByRole('option', { name: 'Email domain' }).click();
    await field(form, 'Email domain').fill('competitor.test');
    await field(form, 'Reason').fill('A competitor');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await form.getByText('Suppressed @competitor.test (email).').waitFor();

    const rows = page.getByTestId('suppression');
    await expect.poll(() => rows.count()).toBe(3);
    await rows.filter({ hasText: '@competitor.test' }).getByText('domain').waitFor();
    await page.getByText('Domains', { exact: true }).click();
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining('@competitor.test')]);
    await page.getByText('All', { exact: true }).click();
    await field(page, 'Search').fill('5550123');
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining('+14155550123')]);
    await field(page, 'Search').fill('');
    await expect.poll(() => rows.count()).toBe(3);
    await accessible('the list');
    await screenshot(page, 'suppressions');
  }, 120_000);

  it('downloads the list as CSV and imports one, reporting a bad row by its line', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text.split('\r\n')[0]).toBe('address,channel,reason,kind,source,addedBy,createdAt');
    expect(text).toContain("'@competitor.test,email,A competitor,domain,manual,");

    await page.locator('input[type=file]').setInputFiles({
      name: 'list.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('address,channel,reason\ngrace@navy.test,,From the CRM\nnot an address,,\n'),
    });
    const result = page.getByTestId('import-result');
    await result.getByText('2 rows: 1 suppressed, 0 already on the list, 1 refused.').waitFor();
    await result.getByText('Line 3: "not an address" is not a valid phone number').waitFor();
    await page.getByTestId('suppression').filter({ hasText: 'grace@navy.test' }).waitFor();
    await accessible('an import');
  }, 60_000);

  it('deletes a suppression after a confirmation; a lead at the suppressed domain is refused enrollment', async () => {
    const rows = page.getByTestId('suppression');
    await page.getByRole('button', { name: 'Delete grace@navy.test (email)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the suppression?' });
    await dialog.getByText('grace@navy.test can be contacted by email again at once.').waitFor();
    await untilOpaque(dialog);
    await accessible('the delete dialog');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.getByText('grace@navy.test').count()).toBe(0);

    const lead = await api('/api/leads', { email: 'someone@competitor.test' });
    const admin = (await createToken(runtime.db, (await ensureWorkspace(runtime.db, 'default')).id, 'admin', 'e2e admin')).token;
    const asAdmin = (path: string, body: unknown, method = 'POST') =>
      fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const sequence = await asAdmin('/api/sequences', { name: 'Check', schedule: ALL_DAY, steps: [{ id: 'hi', type: 'email', subject: 'Hi', body: 'Hello' }] });
    await asAdmin(`/api/sequences/${sequence.id}`, { status: 'active' }, 'PATCH');
    const enrolled = await api(`/api/sequences/${sequence.id}/enrollments`, { leadIds: [lead.id] });
    expect(enrolled.skipped).toEqual([expect.objectContaining({ leadId: lead.id, reason: 'suppressed' })]);
  }, 60_000);
});
