/**
 * The browser for end-to-end tests: Debian's Chromium (`apt-get install chromium`), driven by
 * playwright-core. No browser is ever downloaded. Under CI=true a missing Chromium fails the
 * run instead of skipping the suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Whether the suite can run; throws under CI=true when it cannot. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${CHROMIUM} is missing; under CI=true the browser suite must run (.ci/run installs Debian's chromium).`);
  }
  console.warn(`${CHROMIUM} is missing; skipping the browser suite (apt-get install -y chromium).`);
  return false;
}

/** Builds web/dist when it is missing or stale, in a child process so the build is a production one. */
export function buildDashboard(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-web-if-needed.mjs')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: 'inherit',
  });
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'touchpoint-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A full-page picture of the page as it stands, into docs/screenshots/<name>.png (the docs show them). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)'); // a full-page picture of a scrolled page draws the fixed header mid-page
  await page.screenshot({ path: join(ROOT, 'docs/screenshots', `${name}.png`), fullPage: true });
}

/**
 * Collects what must not happen on a page into `problems`: uncaught errors, console errors, and
 * refused requests (status ≥ 400) other than the signed-out probe of /api/me and those a test
 * provokes on purpose, listed beforehand in `expectedRefusals` as "400 POST /api/path" (each
 * allowed once). The browser logs every refused request as a console error too, so refusals are
 * judged by their responses instead.
 */
export function watchPage(page: Page, problems: string[], expectedRefusals: string[] = []): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/^Failed to load resource/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() < 400 || (response.status() === 401 && response.url().endsWith('/api/me'))) return;
    const seen = `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`;
    const expected = expectedRefusals.indexOf(seen);
    if (expected >= 0) expectedRefusals.splice(expected, 1);
    else problems.push(`HTTP ${seen}`);
  });
}

/** Opens the dashboard and signs in with a pasted API token (the automation door). */
export async function signInWithToken(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('button', { name: 'Use an API token instead' }).click();
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
