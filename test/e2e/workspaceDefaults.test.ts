/**
 * The new-sequence editor in Chromium starts from the workspace's defaults: after an admin sets a
 * default window, quiet hours and holidays, "New sequence" (and a template chosen there) opens on
 * them, and the created sequence stores them. The settings page says that existing sequences keep
 * what they were created with; axe checks it.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();
const SCHEDULE = { timezone: 'Europe/Berlin', days: ['tue', 'thu'], start: '10:00', end: '15:00', holidays: [] };
const QUIET = { start: '19:00', end: '09:00', channels: ['sms', 'voice'] };

describe.skipIf(!run)('workspace defaults in the new-sequence editor', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  const problems: string[] = [];

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent' }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'Defaults Inc');
    token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e admin')).token;
    const patched = await fetch(`${baseUrl}/api/workspaces/${workspace.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ defaultSchedule: SCHEDULE, defaultQuietHours: QUIET, holidays: ['2026-12-25'] }),
    });
    expect(patched.status).toBe(200);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    watchPage(page, problems);
  }, 180_000);

  afterEach(() => {
    expect(problems.splice(0), 'console errors and serious accessibility violations').toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    const db = runtime?.db;
    await runtime?.close();
    await db?.close();
  });

  /** The draft as the JSON tab shows it. */
  const draftJson = async () => {
    await page.getByRole('tab', { name: 'JSON' }).click();
    const value = await page.getByLabel('Definition (JSON)').inputValue();
    await page.getByRole('tab', { name: 'Form' }).click();
    return JSON.parse(value) as { schedule?: unknown; quietHours?: unknown; name: string };
  };

  it('opens a new sequence (and a template) on the defaults, and the created sequence keeps them', async () => {
    onTestFailed(async () => {
      const path = join(tmpdir(), 'touchpoint-e2e-defaults-failure.png');
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      console.error(`The page at the failure: ${path}`);
    });
    await signInWithToken(page, baseUrl, token);
    await page.getByTestId('workspace-name').filter({ hasText: 'Defaults Inc' }).waitFor();

    await page.goto(`${baseUrl}/settings`);
    await page.getByTestId('defaults-note').filter({ hasText: 'A sequence keeps what it was created with' }).waitFor();
    for (const violation of await seriousA11yViolations(page)) problems.push(`settings: ${violation}`);

    await page.goto(`${baseUrl}/sequences/new`);
    await page.getByRole('heading', { name: 'New sequence' }).waitFor();
    const withHolidays = { ...SCHEDULE, holidays: ['2026-12-25'] };
    expect(await draftJson()).toMatchObject({ schedule: withHolidays, quietHours: QUIET });

    await page.getByRole('combobox', { name: 'Start from a template' }).click();
    await page.getByRole('option', { name: '3-touch email' }).click();
    const fromTemplate = await draftJson();
    expect(fromTemplate).toMatchObject({ name: '3-touch email', schedule: withHolidays, quietHours: QUIET });

    await page.getByRole('button', { name: 'Create sequence' }).click();
    await page.waitForURL(/\/sequences\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/').pop();
    const stored = (await (await fetch(`${baseUrl}/api/sequences/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { definition: unknown };
    expect(stored.definition).toMatchObject({ schedule: withHolidays, quietHours: QUIET });
  });
});
