/**
 * Issue 20, part 2, in Debian's Chromium: a newcomer on an empty workspace loads demo data and
 * sees a send, a simulated reply and a task appear within a minute, with the banner saying how
 * to remove it; the Replies inbox shows the thread and its one-click actions; the banner's
 * button removes the demo data. axe-core on every page and dialog, no page errors. Waits are
 * Playwright's auto-waiting on a visible state, never a fixed sleep.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations, untilOpaque } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, screenshot, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();

describe.skipIf(!run)('demo data and the replies inbox in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  const problems: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', MOCK_REPLY_DELAY_SECONDS: '1' }), { db, worker: true });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e newcomer')).token;
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

  it('loads demo data: a send, a reply and a task, under a banner', async () => {
    await signInWithToken(page, baseUrl, token);
    await page.getByText('No leads yet').waitFor();
    await page.getByRole('button', { name: 'Load demo data' }).click();
    await page.getByTestId('demo-banner').waitFor();
    await expect.poll(() => page.getByTestId('demo-banner').textContent()).toContain('seed --demo --remove');
    await accessible('leads with demo data');

    // A send and a reply: Ada's status turns to replied (her lead page shows the sent email).
    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByText('Quick question, Ada').first().waitFor({ timeout: 60_000 });
    await page.getByRole('link', { name: 'Replies' }).click();
    await page.getByTestId('reply').filter({ hasText: 'Ada Lovelace' }).waitFor({ timeout: 60_000 });
    // A task: Grace's call task, 20 seconds after her email.
    await page.getByRole('link', { name: 'Tasks' }).click();
    await page.getByText('Call Grace at Compiler Works').waitFor({ timeout: 60_000 });
    await accessible('tasks with demo data');
  }, 120_000);

  it('shows each reply with the message it answers, and acts on it in one click', async () => {
    await page.getByRole('link', { name: 'Replies' }).click();
    const ada = page.getByTestId('reply').filter({ hasText: 'Ada Lovelace' });
    await ada.getByTestId('reply-answered').filter({ hasText: 'Quick question, Ada' }).waitFor();
    await ada.getByTestId('reply-text').filter({ hasText: 'Thursday at 10' }).waitFor();
    await ada.getByText('Demo · Fast follow-up').waitFor();
    await accessible('replies');
    await screenshot(page, 'replies');

    await ada.getByRole('button', { name: 'Log meeting' }).click();
    await page.getByLabel('Note (optional, kept on the timeline)').fill('Demo on Thursday at 10');
    await untilOpaque(page.getByRole('dialog'));
    await accessible('log a meeting');
    await page.getByRole('button', { name: 'Log meeting' }).last().click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });

    await ada.getByRole('button', { name: 'Mark converted' }).click();
    await untilOpaque(page.getByRole('dialog'));
    await accessible('confirm convert');
    await page.getByRole('dialog').getByRole('button', { name: 'Mark converted' }).click();
    await ada.getByRole('button', { name: 'Converted' }).waitFor();

    await ada.getByRole('button', { name: 'Snooze' }).click();
    await page.getByRole('menuitem', { name: 'Until tomorrow 09:00' }).click();
    await expect.poll(() => page.getByTestId('reply').filter({ hasText: 'Ada Lovelace' }).count()).toBe(0);
    await page.getByText('Snoozed', { exact: true }).click();
    await page.getByTestId('reply').filter({ hasText: 'Ada Lovelace' }).getByRole('button', { name: 'Unsnooze' }).click();
    await expect.poll(() => page.getByTestId('reply').count()).toBe(0);
    await page.getByText('Inbox', { exact: true }).click();
    await page.getByTestId('reply').filter({ hasText: 'Ada Lovelace' }).waitFor();
  }, 90_000);

  it('removes the demo data from the banner', async () => {
    await page.getByRole('button', { name: 'Remove demo data' }).click();
    await untilOpaque(page.getByRole('dialog'));
    await accessible('confirm remove demo data');
    await page.getByRole('dialog').getByRole('button', { name: 'Remove demo data' }).click();
    await page.getByTestId('demo-banner').waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Leads' }).click();
    await page.getByText('No leads yet').waitFor();
  }, 60_000);
});
