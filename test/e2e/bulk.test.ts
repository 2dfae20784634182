/**
 * Issue 20 (lead list), in Debian's Chromium: bulk actions over a whole filter and saved filters.
 * An operator searches, ticks the page, selects all leads matching the filter (more than a page),
 * pauses them after a confirm that shows the dry run's sentence, and finds every one paused and
 * the others untouched; then saves the search as a filter, clears it, and applies it again.
 * axe-core on the page and the dialogs, no page errors. Waits are Playwright's auto-waiting on a
 * visible state, never a fixed sleep.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations, untilOpaque } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();
const field = (scope: Locator | Page, label: string) => scope.getByLabel(new RegExp(`^${label}( \\*)?$`));
const ALL_DAY = { timezone: 'lead', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' };
const MATCHING = 30;

describe.skipIf(!run)('bulk actions over a filter, and saved filters, in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  let adminToken: string;
  let sequenceId: string;
  const problems: string[] = [];
  const expectedRefusals: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };
  const api = async (method: string, path: string, body?: unknown, as = token) =>
    (
      await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json() as Promise<any>;
  const statusesOf = async (company: string) => {
    const leads = (await api('GET', `/api/leads?limit=100&q=${company}`)).items as Array<{ liveEnrollments: Array<{ status: string }> }>;
    return leads.flatMap((l) => l.liveEnrollments.map((e) => e.status));
  };

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: 'cd'.repeat(32) }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'operator', 'e2e bulk')).token;
    adminToken = (await createToken(runtime.db, workspace.id, 'admin', 'e2e bulk setup')).token;
    const sequence = await api('POST', '/api/sequences', {
      name: 'Bulk intro',
      schedule: ALL_DAY,
      steps: [
        { id: 'wait', type: 'wait', duration: 'P3D' },
        { id: 'intro', type: 'email', subject: 'Hello', body: 'Hi' },
        { id: 'done', type: 'end' },
      ],
    }, adminToken);
    sequenceId = sequence.id;
    await api('PATCH', `/api/sequences/${sequenceId}`, { status: 'active' }, adminToken);
    const ids: string[] = [];
    for (let i = 0; i < MATCHING; i++) ids.push((await api('POST', '/api/leads', { email: `rep${i}@bulkco.test`, firstName: `Rep${i}`, company: 'Bulkco' })).id);
    for (let i = 0; i < 3; i++) ids.push((await api('POST', '/api/leads', { email: `x${i}@elsewhere.test`, company: 'Elsewhere' })).id);
    const enrolled = await api('POST', `/api/sequences/${sequenceId}/enrollments`, { leadIds: ids });
    if (enrolled.enrolled?.length !== ids.length) throw new Error(`setup: ${JSON.stringify(enrolled)}`);
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

  it('selects all leads matching the search and pauses them after a confirm with the dry run’s sentence', async () => {
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Leads' }).first().click();
    const rows = page.getByRole('table', { name: 'Leads' }).locator('tbody tr');
    await page.getByText('Elsewhere').first().waitFor();
    await field(page, 'Search').fill('bulkco');
    await expect.poll(() => page.getByText('Elsewhere').count()).toBe(0);
    await expect.poll(() => rows.count()).toBe(25);

    await page.getByRole('checkbox', { name: 'Select all leads on this page' }).check();
    await page.getByText('25 selected:').waitFor();
    await page.getByRole('button', { name: `Select all ${MATCHING} leads matching this filter` }).click();
    await page.getByText(`All ${MATCHING} leads matching this filter are selected.`).waitFor();
    await page.getByText(`${MATCHING} selected:`).waitFor();
    await accessible('all matching selected');

    await page.getByTestId('bulk-actions').getByRole('button', { name: 'Pause' }).click();
    const dialog = page.getByRole('dialog', { name: `Pause the sequences of ${MATCHING} leads?` });
    await dialog.getByText(`${MATCHING} leads: ${MATCHING} running sequences of ${MATCHING} leads will pause (nothing is sent until someone resumes them).`).waitFor();
    await untilOpaque(dialog);
    await accessible('the confirm dialog');
    expect(await statusesOf('bulkco')).toEqual(Array(MATCHING).fill('active'));
    await field(dialog, 'Reason \\(optional, kept on the timeline\\)').fill('Conference week');
    await dialog.getByRole('button', { name: 'Pause' }).click();

    await page.getByTestId('bulk-result').getByText(`${MATCHING} leads: ${MATCHING} running sequences of ${MATCHING} leads paused.`).waitFor();
    await accessible('the result');
    expect(await statusesOf('bulkco')).toEqual(Array(MATCHING).fill('paused'));
    expect(await statusesOf('elsewhere')).toEqual(['active', 'active', 'active']);
    await page.getByText('Select leads to act on them:').waitFor();
  }, 120_000);

  it('saves the search as a filter and applies it again', async () => {
    await page.getByRole('button', { name: 'Save filter' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save this filter' });
    await field(dialog, 'Name').fill('Bulkco reps');
    await dialog.getByRole('checkbox', { name: /Share with the workspace/ }).check();
    await untilOpaque(dialog);
    await accessible('the save dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(async () => (await api('GET', '/api/saved-filters')).items.map((f: { name: string; filter: unknown; shared: boolean }) => [f.name, f.filter, f.shared])).toEqual([
      ['Bulkco reps', { q: 'bulkco' }, true],
    ]);

    await field(page, 'Search').fill('');
    const rows = page.getByRole('table', { name: 'Leads' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(25);
    await page.getByText('Elsewhere').first().waitFor();
    await page.getByRole('combobox', { name: 'Saved filter' }).click();
    await page.getByRole('option', { name: 'Bulkco reps' }).click();
    await expect.poll(() => field(page, 'Search').inputValue()).toBe('bulkco');
    await expect.poll(() => page.getByText('Elsewhere').count()).toBe(0);
    await accessible('a saved filter applied');
  }, 120_000);
});
