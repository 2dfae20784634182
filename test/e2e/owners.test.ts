/**
 * Issue 17 item 5 in Debian's Chromium: owners and assignment. Ada (operator) signs in with her
 * password; on the lead page she makes herself the owner; on the Leads list the Owner column
 * shows it, the owner filter narrows to her leads and to the unowned ones, and "Set owner" gives
 * two selected leads to Bob. The Tasks page opens on "My tasks": her lead's task, with her name
 * and its due time; "Unassigned" and "All" switch. She edits her working hours on Members.
 * axe-core on each page, no page errors. Waits are Playwright's auto-waiting, never a sleep.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations, untilOpaque } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();
const PASSWORD = 'correct horse battery';
const ALL_DAY = { timezone: 'lead', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' };

describe.skipIf(!run)('owners and my tasks in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  const leads: Record<string, string> = {};
  const problems: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };
  const api = async (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
    (
      await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json() as Promise<any>;
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: 'cd'.repeat(32) }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e owners')).token;
    await runtime.accounts.createUser({ email: 'ada@team.test', workspace: 'default', role: 'operator', password: PASSWORD });
    await runtime.accounts.createUser({ email: 'bob@team.test', workspace: 'default', role: 'operator', password: PASSWORD });
    for (const name of ['Grace', 'Alan', 'Edsger']) leads[name] = (await api('/api/leads', { email: `${name.toLowerCase()}@acme.test`, firstName: name })).id;
    const sequence = await api('/api/sequences', { name: 'Call them', schedule: ALL_DAY, steps: [{ id: 'call', type: 'task', title: 'Call {{ lead.firstName }}', dueWithin: 'PT2H' }] });
    await api(`/api/sequences/${sequence.id}`, { status: 'active' }, 'PATCH');
    await api(`/api/sequences/${sequence.id}/enrollments`, { leadIds: Object.values(leads) });
    await runtime.engine.dispatcher.drain();
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
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
  });

  it('sets an owner on the lead page, shows it in the list, filters by owner and sets owners in bulk', async () => {
    await page.goto(baseUrl);
    await page.getByLabel('Email').fill('ada@team.test');
    await page.getByLabel(/^Password/).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav('Leads');
    await page.getByRole('link', { name: 'Grace' }).click();
    await page.getByRole('textbox', { name: 'Owner', exact: true }).or(page.getByLabel('Owner', { exact: true })).first().click();
    await page.getByRole('option', { name: 'ada@team.test' }).click();
    await expect.poll(async () => (await api(`/api/leads/${leads.Grace}`)).owner?.email).toBe('ada@team.test');
    await accessible('the lead page with its owner');

    await nav('Leads');
    const rows = page.locator('tbody tr');
    await rows.filter({ hasText: 'Grace' }).getByTestId('lead-owner').filter({ hasText: 'ada@team.test' }).waitFor();
    await page.getByRole('textbox', { name: 'Owner', exact: true }).or(page.getByLabel('Owner', { exact: true })).first().click();
    await page.getByRole('option', { name: 'My leads' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('textbox', { name: 'Owner', exact: true }).or(page.getByLabel('Owner', { exact: true })).first().click();
    await page.getByRole('option', { name: 'Unowned' }).click();
    await expect.poll(() => rows.count()).toBe(2);
    await accessible('the Leads list filtered by owner');

    await page.getByRole('checkbox', { name: 'Select Alan' }).check();
    await page.getByRole('checkbox', { name: 'Select Edsger' }).check();
    await page.getByRole('button', { name: 'Set owner' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set the owner of 2 leads' });
    await untilOpaque(dialog);
    await dialog.getByLabel('New owner', { exact: true }).first().click();
    await page.getByRole('option', { name: 'bob@team.test' }).click();
    await accessible('the Set owner dialog');
    await dialog.getByRole('button', { name: 'Set owner' }).click();
    // Both leave the "Unowned" list at once (and the selection's actions with them).
    await expect.poll(() => rows.count()).toBe(0);
    for (const name of ['Alan', 'Edsger']) expect((await api(`/api/leads/${leads[name]}`)).owner?.email).toBe('bob@team.test');
  }, 120_000);

  it('opens the Tasks page on my tasks, with the assignee and due time, and switches to unassigned and all', async () => {
    await nav('Tasks');
    const tasks = page.getByTestId('task');
    await expect.poll(() => tasks.count()).toBe(1);
    await tasks.first().getByText('Call Grace').waitFor();
    await tasks.first().getByTestId('task-assignee').filter({ hasText: 'For ada@team.test' }).waitFor();
    await tasks.first().getByTestId('task-due').filter({ hasText: /^Due / }).waitFor();
    await accessible('my tasks');
    await page.getByText('Unassigned', { exact: true }).click();
    await expect.poll(() => tasks.count()).toBe(0);
    await page.getByText('All', { exact: true }).click();
    await expect.poll(() => tasks.count()).toBe(3);
    await accessible('all tasks');
  }, 60_000);

  it('edits her own working hours on the Members page', async () => {
    await nav('Members');
    const ada = page.getByTestId('member').filter({ hasText: 'ada@team.test' });
    await ada.getByTestId('member-hours').filter({ hasText: 'workspace default' }).waitFor();
    await ada.getByRole('button', { name: 'Edit hours of ada@team.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Working hours of ada@team.test' });
    await untilOpaque(dialog);
    await dialog.getByRole('checkbox', { name: 'fri' }).uncheck();
    await dialog.getByLabel('Start (HH:MM)').fill('08:00');
    await accessible('the working hours dialog');
    await dialog.getByRole('button', { name: 'Save hours' }).click();
    await ada.getByTestId('member-hours').filter({ hasText: 'mon, tue, wed, thu 08:00–17:00' }).waitFor();
    // Gone, not fading out: axe judged the closing dialog's faded text as low contrast.
    await dialog.waitFor({ state: 'detached' });
    await accessible('the Members page');
  }, 60_000);
});
