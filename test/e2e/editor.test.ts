/**
 * Issue 20, "Writing emails", in Debian's Chromium: in a sequence's step form a rep inserts a
 * variable with a fallback at the cursor, picks a real lead and reads the email as the server
 * renders it (the HTML in a sandboxed frame, the plain-text version, each A/B variant, the
 * variable the lead lacks), then the SMS with its encoding and segment count and the call script.
 * axe-core on each state, no page errors, no refused request; pictures at desktop and phone width.
 * Waits are Playwright's auto-waiting on a visible state, never a fixed sleep.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { seriousA11yViolations } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, screenshot, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();

const definition = {
  name: 'Editor walk-through',
  sender: { name: 'Bob Rep', email: 'bob@acme.test' },
  steps: [
    {
      id: 'intro',
      type: 'email',
      format: 'markdown',
      subject: 'Hi ',
      body: 'Hello {{ lead.firstName }},\n\nHow is **{{ lead.company }}** doing as {{ lead.title }}? See [our notes](https://acme.test/notes).\n\n{{ sender.name }}',
      variants: [{ id: 'a' }, { id: 'b', subject: 'A question for {{ lead.company | default: "you" }}' }],
    },
    { id: 'pause', type: 'wait', duration: 'P2D' },
    { id: 'nudge', type: 'sms', text: `Hi {{ lead.firstName }}, it’s Bob again: did you get my note? ${'Just checking in. '.repeat(2)}` },
    { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName }}, this is {{ sender.name }} from Acme.', voicemail: 'Sorry I missed you, {{ lead.firstName }}.' },
    { id: 'done', type: 'end' },
  ],
};

describe.skipIf(!run)('the step editor in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let sequenceId: string;
  const problems: string[] = [];
  /** Refusals a step provokes on purpose ("400 POST /api/sequences/preview-step"), each allowed once. */
  const expectedRefusals: string[] = [];
  /**
   * A full-page picture with the whole page inside the viewport: Chromium paints a sandboxed
   * frame (its own process) only within the viewport, so the email preview would come out blank.
   */
  const tallShot = async (name: string) => {
    const size = page.viewportSize()!;
    const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    await page.setViewportSize({ width: size.width, height });
    await page.frameLocator('[data-testid="step-preview"] iframe').first().locator('body').waitFor();
    await screenshot(page, name);
    await page.setViewportSize(size);
  };
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent' }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    const token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e editor')).token;
    const call = async (path: string, body: unknown) => {
      const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status, path).toBeLessThan(300);
      return (await response.json()) as { id: string };
    };
    await call('/api/leads', { email: 'ada@example.com', phone: '+14155550123', firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines', customFields: { industry: 'Computing' } });
    await call('/api/leads', { email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper', company: 'Navy', title: 'Rear Admiral' });
    sequenceId = (await call('/api/sequences', definition)).id;

    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    watchPage(page, problems, expectedRefusals);
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Sequences' }).waitFor();
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

  it('inserts a variable with a fallback at the cursor, and previews the email for a chosen lead, per variant', async () => {
    await page.goto(`${baseUrl}/sequences/${sequenceId}`);
    const form = page.getByTestId('step-form-intro');
    const subject = form.getByRole('textbox', { name: 'Subject (optional)', exact: true });
    await subject.waitFor();
    await subject.click();
    await subject.press('End');
    await form.getByRole('button', { name: 'Insert variable into Subject (optional)' }).click();
    const picker = page.getByRole('group', { name: 'Variable for Subject (optional)' });
    await picker.getByRole('combobox', { name: 'Variable' }).click();
    await page.getByRole('option', { name: 'First name (lead.firstName)' }).click();
    await picker.getByLabel('Fallback', { exact: true }).fill('there');
    await picker.getByTestId('variable-tag').filter({ hasText: '{{ lead.firstName | default: "there" }}' }).waitFor();
    await accessible('variable picker');
    await picker.getByRole('button', { name: 'Insert' }).click();
    expect(await subject.inputValue()).toBe('Hi {{ lead.firstName | default: "there" }}');

    // The custom fields in use are offered too.
    await form.getByRole('button', { name: 'Insert variable into Body' }).click();
    await page.getByRole('group', { name: 'Variable for Body' }).getByRole('combobox', { name: 'Variable' }).click();
    await page.getByRole('option', { name: 'industry (lead.custom.industry)' }).waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    const preview = form.getByTestId('step-preview');
    await preview.getByRole('combobox', { name: 'Preview for lead' }).fill('Ada');
    await page.getByRole('option', { name: 'Ada Lovelace <ada@example.com>' }).click();

    // Variant a: the step's subject with the inserted variable, rendered for Ada.
    const shown = preview.getByRole('tabpanel');
    await shown.getByTestId('preview-subject').filter({ hasText: /^Hi Ada$/ }).waitFor();
    const frame = shown.frameLocator('iframe[title="Email as Ada Lovelace sees it, variant a"]');
    await frame.locator('strong').filter({ hasText: 'Analytical Engines' }).waitFor();
    expect(await shown.locator('iframe').getAttribute('sandbox')).toBe('');
    await shown.getByTestId('preview-text').filter({ hasText: 'How is **Analytical Engines** doing as ?' }).waitFor();
    // Ada has no title, and the body prints it without a fallback.
    await shown.getByTestId('missing-variables').filter({ hasText: 'lead.title' }).waitFor();
    await shown.getByTestId('content-hints').filter({ hasText: '1 link' }).waitFor();

    await preview.getByRole('tab', { name: /Variant b/ }).click();
    await preview.getByRole('tabpanel').getByTestId('preview-subject').filter({ hasText: 'A question for Analytical Engines' }).waitFor();
    await preview.frameLocator('iframe[title="Email as Ada Lovelace sees it, variant b"]').locator('strong').filter({ hasText: 'Analytical Engines' }).waitFor();
    await accessible('email preview');
    await tallShot('step-editor');

    // A lead who has every field: the warning goes.
    await preview.getByRole('combobox', { name: 'Preview for lead' }).fill('Grace');
    await page.getByRole('option', { name: 'Grace Hopper <grace@example.com>' }).click();
    await preview.getByRole('tabpanel').getByTestId('preview-subject').filter({ hasText: 'A question for Navy' }).waitFor();
    await preview.getByRole('tab', { name: /Variant a/ }).click();
    await preview.getByRole('tabpanel').getByTestId('preview-text').filter({ hasText: 'doing as Rear Admiral?' }).waitFor();
    expect(await preview.getByTestId('missing-variables').count()).toBe(0);
  }, 180_000);

  it('counts an SMS’s segments and encoding, and previews the call script, for the same lead', async () => {
    await page.getByRole('listitem').filter({ hasText: '3. nudge' }).click();
    const preview = page.getByTestId('step-form-nudge').getByTestId('step-preview');
    // The chosen lead stays chosen from step to step.
    await preview.getByTestId('preview-text').filter({ hasText: /^Hi Grace, it’s Bob again/ }).waitFor();
    // The curly apostrophe forces UCS-2: 97 characters are two parts of 67.
    await preview.getByTestId('sms-segments').filter({ hasText: /UCS-2 · 2 segments \(67 per segment/ }).waitFor();
    await preview.getByText(/“’” is not in the GSM-7 alphabet/).waitFor();

    const text = page.getByTestId('step-form-nudge').getByRole('textbox', { name: 'Text', exact: true });
    await text.fill('Hi {{ lead.firstName }}, it is Bob. Any thoughts?');
    await preview.getByTestId('sms-segments').filter({ hasText: '34 characters · GSM-7 · 1 segment (160 per segment, 126 left)' }).waitFor();
    await accessible('sms preview');
    // A template that does not parse: the server's sentence, no preview, until it is fixed.
    expectedRefusals.push('400 POST /api/sequences/preview-step');
    await text.fill('Hi {{ lead.firstName , it is Bob.');
    await preview.getByRole('alert').filter({ hasText: 'This step cannot be previewed' }).filter({ hasText: /This step: The template does not parse/ }).waitFor();
    await text.fill('Hi {{ lead.firstName }}, it is Bob. Any thoughts?');
    await preview.getByTestId('sms-segments').filter({ hasText: '34 characters' }).waitFor();

    await page.getByRole('listitem').filter({ hasText: '4. call' }).click();
    const call = page.getByTestId('step-form-call').getByTestId('step-preview');
    await call.getByTestId('preview-text').filter({ hasText: 'Hi Grace, this is Bob Rep from Acme.' }).waitFor();
    await call.getByText('Sorry I missed you, Grace.').waitFor();
    await call.getByTestId('content-hints').filter({ hasText: /words · about \d+ s read aloud/ }).waitFor();
    await accessible('call preview');

    await page.getByRole('listitem').filter({ hasText: '1. intro' }).click();
    await page.getByTestId('step-form-intro').getByTestId('preview-subject').waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('step-form-intro').getByTestId('step-preview').scrollIntoViewIfNeeded();
    await accessible('phone editor');
    await tallShot('phone-step-editor');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 180_000);
});
