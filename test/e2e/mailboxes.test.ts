/**
 * Issue 16, item 7, in Debian's Chromium: an admin adds a mailbox (a refused field shown under
 * its field first), tests its login against an SMTP port that refuses (127.0.0.1:1) and reads
 * the server's sentence, changes its daily limit, edits its servers (an empty password field
 * keeps the stored password, a typed one replaces it; IMAP on and off; the test offered after a
 * save), picks it in a sequence's settings (the saved
 * definition names it) and deletes it after a confirmation. axe-core on the page and the dialog,
 * no page errors, and refused requests judged by their responses (the one expected 400 aside).
 * Then the thread on the lead timeline: a sequence sends two emails through a mailbox (the second
 * without a subject, so `Re:` in the same thread), the lead's reply comes back by In-Reply-To,
 * and the lead's page shows them as one collapsible conversation (desktop and phone screenshots).
 * Waits are Playwright's auto-waiting on a visible state, never a fixed sleep.
 */
import { randomBytes } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createToken, ensureWorkspace } from '../../src/db/workspaces.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { seriousA11yViolations, untilOpaque } from './axe.ts';
import { browserAvailable, buildDashboard, launchBrowser, screenshot, signInWithToken, watchPage, type Browser } from './browser.ts';

const run = browserAvailable();
/** A field by its label, exactly, whether or not Mantine marks it required (" *"). */
const field = (scope: Locator, label: string) => scope.getByLabel(new RegExp(`^${label}( \\*)?$`));
const ALL_DAY = { timezone: 'lead', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' };

describe.skipIf(!run)('the Mailboxes page in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  let workspaceId: string;
  const problems: string[] = [];
  /** Refusals a step provokes on purpose ("400 POST /api/mailboxes"), each allowed once. */
  const expectedRefusals: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };
  const api = async (path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    // A key of the test's own: nothing is written to DATA_DIR.
    const config = parseConfig({ LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: randomBytes(32).toString('base64') });
    runtime = await createRuntime(config, { db, worker: true });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    workspaceId = workspace.id;
    token = (await createToken(runtime.db, workspace.id, 'admin', 'e2e mailboxes')).token;
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

  it('adds a mailbox, showing a refused field under it, and lists it with its usage', async () => {
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Mailboxes' }).click();
    await page.getByText('No mailboxes yet').waitFor();
    await accessible('empty mailboxes');

    const form = page.getByRole('form', { name: 'Add mailbox' });
    await field(form, 'Name').fill('Ada’s mailbox');
    await field(form, 'From email').fill('ada at example');
    await field(form, 'From name').fill('Ada Lovelace');
    await field(form, 'SMTP host').fill('127.0.0.1');
    await field(form, 'SMTP port').fill('1');
    await field(form, 'SMTP user').fill('ada');
    await field(form, 'SMTP password').fill('app-password-1');
    expectedRefusals.push('400 POST /api/mailboxes');
    await form.getByRole('button', { name: 'Add mailbox' }).click();
    await form.getByText('Must be an email address.').waitFor();
    await accessible('a refused field');

    await field(form, 'From email').fill('ada@example.com');
    await form.getByRole('button', { name: 'Add mailbox' }).click();
    const card = page.getByTestId('mailbox').filter({ hasText: 'Ada’s mailbox' });
    await card.getByText('Ada Lovelace <ada@example.com>').waitFor();
    await card.getByTestId('mailbox-usage').filter({ hasText: '0 / 50 today' }).waitFor();
    await card.getByText('IMAP off').waitFor();
    // The password went in and never comes out: not on the page, not in the answer.
    expect(await page.content()).not.toContain('app-password-1');
    expect(await field(form, 'SMTP password').inputValue()).toBe('');
    const listed = await (await api('/api/mailboxes')).text();
    expect(listed).not.toContain('app-password-1');
    await accessible('a mailbox');
  }, 120_000);

  it('tests the login and shows the server’s sentence, then changes the daily limit', async () => {
    const card = page.getByTestId('mailbox').filter({ hasText: 'Ada’s mailbox' });
    await card.getByRole('button', { name: 'Test' }).click();
    const verdict = card.getByTestId('mailbox-test');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.textContent()).toMatch(/The login failed.*SMTP.*127\.0\.0\.1.*refused/);
    await screenshot(page, 'mailboxes');

    await card.getByRole('button', { name: 'Edit limits' }).click();
    await field(card, 'Daily limit').fill('20');
    await card.getByRole('button', { name: 'Save limits' }).click();
    await card.getByTestId('mailbox-usage').filter({ hasText: '0 / 20 today' }).waitFor();
    await card.getByRole('button', { name: 'Save limits' }).waitFor({ state: 'detached' });

    // A warm-up ramp: today's limit is its first day's; the card says what it ramps to.
    await card.getByRole('button', { name: 'Edit limits' }).click();
    await card.getByLabel('Warm up: ramp from a small limit to the daily limit').check();
    await field(card, 'First day’s limit').fill('5');
    await field(card, 'Days to reach the daily limit').fill('10');
    await card.getByText('Saving starts the ramp again from today.').waitFor();
    await card.getByRole('button', { name: 'Save limits' }).click();
    await card.getByText(/warming up from 5 over 10 days/).waitFor();
    await card.getByTestId('mailbox-usage').filter({ hasText: '0 / 5 today' }).waitFor();
    const [ramp] = await runtime.db.query<{ warmup: unknown; startedOn: string | null }>(
      `select warmup, warmup_started_on::text as "startedOn" from mailboxes where name = 'Ada’s mailbox'`,
    );
    expect(ramp).toMatchObject({ warmup: { startLimit: 5, days: 10 } });
    expect(ramp!.startedOn).not.toBeNull();
    await accessible('mailboxes with a warm-up');
  }, 90_000);

  it('edits the servers: an empty password keeps the stored one, a typed one replaces it, and the page offers the test', async () => {
    const sealed = async () =>
      (await runtime.db.query<{ smtp: { port: number }; smtpSealed: string; imapSealed: string | null }>(
        `select smtp, smtp_password_sealed as "smtpSealed", imap_password_sealed as "imapSealed" from mailboxes where name = 'Ada’s mailbox'`,
      ))[0]!;
    const before = await sealed();
    const card = page.getByTestId('mailbox').filter({ hasText: 'Ada’s mailbox' });
    await card.getByRole('button', { name: 'Edit mailbox' }).click();
    const form = card.getByRole('form', { name: 'Edit Ada’s mailbox' });
    expect(await field(form, 'SMTP host').inputValue()).toBe('127.0.0.1');
    expect(await field(form, 'SMTP password').inputValue()).toBe('');
    await form.getByText('Leave empty to keep the stored password').first().waitFor();
    await accessible('edit a mailbox');
    await field(form, 'SMTP port').fill('2');
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    await card.getByTestId('mailbox-limits').filter({ hasText: 'SMTP 127.0.0.1:2' }).waitFor();
    const kept = await sealed();
    expect(kept.smtp.port).toBe(2);
    expect(kept.smtpSealed).toBe(before.smtpSealed);
    // After a save the page offers the test, which tries the new port.
    await card.getByTestId('mailbox-saved').getByRole('button', { name: 'Test now' }).click();
    const verdict = card.getByTestId('mailbox-test');
    await verdict.filter({ hasText: /127\.0\.0\.1:2/ }).waitFor({ timeout: 60_000 });
    expect(await verdict.textContent()).toMatch(/The login failed.*SMTP.*refused/);

    // IMAP on: a mailbox without IMAP needs its password; new passwords replace the stored ones.
    await card.getByRole('button', { name: 'Edit mailbox' }).click();
    await form.getByRole('switch', { name: 'Read replies and bounces over IMAP' }).click();
    await field(form, 'IMAP host').fill('127.0.0.1');
    await field(form, 'IMAP port').fill('1');
    await field(form, 'IMAP user').fill('ada');
    expect(await form.getByRole('button', { name: 'Save mailbox' }).isDisabled()).toBe(true);
    await field(form, 'IMAP password').fill('imap-password-2');
    await field(form, 'SMTP password').fill('app-password-2');
    // The server whose Authentication-Results are believed: refused under its field, then saved.
    await field(form, 'Authentication-Results server').fill('not a host!');
    const [adas] = await runtime.db.query<{ id: string }>(`select id from mailboxes where name = 'Ada’s mailbox'`);
    expectedRefusals.push(`400 PATCH /api/mailboxes/${adas!.id}`);
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    await form.getByText(/must be a host name/i).first().waitFor();
    await field(form, 'Authentication-Results server').fill('mx.acme.test');
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    await card.getByText('IMAP on').waitFor();
    const imapOf = async () =>
      (await runtime.db.query<{ imap: { authservId?: string } | null }>(`select imap from mailboxes where name = 'Ada’s mailbox'`))[0]!.imap;
    expect((await imapOf())?.authservId).toBe('mx.acme.test');
    const replaced = await sealed();
    expect(replaced.smtpSealed).not.toBe(before.smtpSealed);
    expect(replaced.imapSealed).toBeTruthy();
    expect(await page.content()).not.toMatch(/app-password-2|imap-password-2/);
    expect(await (await api('/api/mailboxes')).text()).not.toMatch(/app-password-2|imap-password-2/);
    await accessible('a saved mailbox');

    // Emptied, the Authentication-Results server is the IMAP host again.
    await card.getByRole('button', { name: 'Edit mailbox' }).click();
    expect(await field(form, 'Authentication-Results server').inputValue()).toBe('mx.acme.test');
    await field(form, 'Authentication-Results server').fill('');
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    await waitFor(async () => (await imapOf())?.authservId === undefined, 'the Authentication-Results server to be cleared');
    await card.getByRole('button', { name: 'Edit mailbox' }).waitFor();

    // IMAP off again: its settings and password go.
    await card.getByRole('button', { name: 'Edit mailbox' }).click();
    expect(await field(form, 'IMAP password').inputValue()).toBe('');
    await form.getByRole('switch', { name: 'Read replies and bounces over IMAP' }).click();
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    await card.getByText('IMAP off').waitFor();
    expect((await sealed()).imapSealed).toBeNull();
  }, 120_000);

  it('picks the mailbox in a sequence’s settings; the saved definition names it', async () => {
    const mailboxes = ((await (await api('/api/mailboxes')).json()) as { items: { id: string }[] }).items;
    const created = await api('/api/sequences', {
      method: 'POST',
      body: JSON.stringify({ name: 'From Ada', schedule: ALL_DAY, steps: [{ id: 'hello', type: 'email', subject: 'Hello', body: 'Hi {{ lead.firstName }}' }, { id: 'done', type: 'end' }] }),
    });
    expect(created.status).toBe(201);
    const sequenceId = ((await created.json()) as { id: string }).id;
    await page.getByRole('link', { name: 'Sequences' }).click();
    await page.getByRole('link', { name: 'From Ada' }).click();
    const settings = page.getByTestId('sequence-settings');
    await settings.getByLabel('Mailboxes', { exact: true }).click();
    await page.getByRole('option', { name: 'Ada’s mailbox <ada@example.com>' }).click();
    await page.keyboard.press('Escape');
    await page.getByTestId('validation').filter({ hasText: 'valid' }).waitFor();
    await accessible('sequence settings with a mailbox');
    await page.getByRole('button', { name: 'Save as new version' }).click();
    await expect
      .poll(async () => ((await (await api(`/api/sequences/${sequenceId}`)).json()) as { definition: { mailboxes?: string[] } }).definition.mailboxes)
      .toEqual([mailboxes[0]!.id]);
  }, 90_000);

  it('deletes the mailbox after a confirmation', async () => {
    await page.getByRole('link', { name: 'Mailboxes' }).click();
    const card = page.getByTestId('mailbox').filter({ hasText: 'Ada’s mailbox' });
    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByText('Its stored passwords are erased').waitFor();
    await untilOpaque(page.getByRole('dialog').getByRole('button', { name: 'Delete mailbox' }));
    await accessible('confirm delete');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete mailbox' }).click();
    await page.getByText('No mailboxes yet').waitFor();
    expect(((await (await api('/api/mailboxes')).json()) as { items: unknown[] }).items).toEqual([]);
  }, 60_000);
  it('shows an email thread on the lead’s timeline as one collapsible conversation', async () => {
    // A mailbox without a gap between sends, so the thread's two emails go out one after the other.
    const mailbox = await api('/api/mailboxes', {
      method: 'POST',
      body: JSON.stringify({
        name: 'Rita',
        fromEmail: 'rita@acme.test',
        fromName: 'Rita Rep',
        smtp: { host: '127.0.0.1', port: 1, secure: false, user: 'rita', password: 'not-used-by-the-mock' },
        dailyLimit: 50,
        minGapSeconds: 0,
      }),
    });
    expect(mailbox.status).toBe(201);
    const mailboxId = ((await mailbox.json()) as { id: string }).id;
    const lead = (await (await api('/api/leads', { method: 'POST', body: JSON.stringify({ email: 'ann@lead.test', firstName: 'Ann', lastName: 'Archer' }) })).json()) as { id: string };
    const sequence = (await (
      await api('/api/sequences', {
        method: 'POST',
        body: JSON.stringify({
          name: 'Threaded follow-up',
          schedule: ALL_DAY,
          mailboxes: [mailboxId],
          steps: [
            { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}, are you the right person for onboarding?' },
            { id: 'nudge', type: 'email', body: 'Just bringing this to the top of your inbox.' },
            { id: 'rest', type: 'wait', duration: 'P7D' },
            { id: 'done', type: 'end' },
          ],
        }),
      })
    ).json()) as { id: string };
    await api(`/api/sequences/${sequence.id}`, { method: 'PATCH', body: JSON.stringify({ status: 'active' }) });
    await api(`/api/sequences/${sequence.id}/enrollments`, { method: 'POST', body: JSON.stringify({ leadIds: [lead.id] }) });
    type Item = { id: string; kind: string; data: { stepId?: string; status?: string; rendered?: { messageId?: string } } };
    const sends = await waitFor(async () => {
      const items = ((await (await api(`/api/leads/${lead.id}/timeline?kind=execution`)).json()) as { items: Item[] }).items;
      const done = items.filter((i) => i.data.status === 'succeeded' && (i.data.stepId === 'intro' || i.data.stepId === 'nudge'));
      return done.length === 2 ? done : undefined;
    }, 'both emails of the thread', 60_000);
    const intro = sends.find((i) => i.data.stepId === 'intro')!;
    const nudge = sends.find((i) => i.data.stepId === 'nudge')!;
    // What the IMAP watcher and a provider's webhook record: a delivery, then the lead's reply to the second email.
    await runtime.engine.ingest({ type: 'email.delivered', provider: 'mock', providerEventId: 'e2e-delivered', occurredAt: new Date(), executionId: intro.id, data: {} });
    const replied = await runtime.engine.ingest({
      type: 'email.replied',
      provider: 'imap',
      workspaceId,
      providerEventId: `imap:${workspaceId}:mid:e2e-reply@lead.test`,
      occurredAt: new Date(),
      address: { channel: 'email', value: 'ann@lead.test' },
      inReplyTo: [nudge.data.rendered!.messageId!],
      data: { mailboxId, messageId: 'e2e-reply@lead.test', subject: 'Re: Quick question, Ann', from: 'ann@lead.test', text: 'Yes, that is me. Does Tuesday at 10 work?' },
    });
    expect(replied.status).toBe('recorded');
    // A second answer that the mailbox's server could not verify (DMARC failed): still in the thread, flagged.
    const flagged = await runtime.engine.ingest({
      type: 'email.replied',
      provider: 'imap',
      workspaceId,
      providerEventId: `imap:${workspaceId}:mid:e2e-unverified@lead.test`,
      occurredAt: new Date(Date.now() + 1000),
      address: { channel: 'email', value: 'ann@lead.test' },
      inReplyTo: [intro.data.rendered!.messageId!],
      data: {
        mailboxId,
        messageId: 'e2e-unverified@lead.test',
        subject: 'Re: Quick question, Ann',
        from: 'ann@lead.test',
        text: 'Please also call me on my mobile.',
        authentication: { verdict: 'fail', spf: 'softfail', dmarc: 'fail', authservId: 'mx.acme.test' },
      },
    });
    expect(flagged.status).toBe('recorded');

    await page.getByRole('link', { name: 'Leads' }).click();
    await page.getByRole('link', { name: 'Ann Archer' }).click();
    const thread = page.locator('[data-testid="timeline-item"][data-kind="thread"]');
    await thread.getByTestId('thread-subject').filter({ hasText: /^Quick question, Ann$/ }).waitFor();
    const messages = thread.getByTestId('thread-message');
    await expect.poll(async () => Promise.all((await messages.all()).map((m) => m.getAttribute('data-direction')))).toEqual(['out', 'out', 'in', 'in']);
    await messages.nth(0).getByText('Sent by Rita Rep <rita@acme.test> · mailbox Rita').waitFor();
    await messages.nth(0).getByTestId('thread-markers').getByText(/^delivered/).waitFor();
    await messages.nth(1).getByTestId('thread-markers').getByText(/^replied/).waitFor();
    await messages.nth(2).getByText('Reply from ann@lead.test').waitFor();
    await messages.nth(2).getByText('Yes, that is me. Does Tuesday at 10 work?').waitFor();
    expect(await messages.nth(2).getByTestId('sender-unverified').count()).toBe(0);
    await messages.nth(3).getByTestId('sender-unverified').waitFor();
    await messages.nth(3).getByText('Sender not verified by mx.acme.test: SPF softfail; DMARC fail').waitFor();
    // The subject is said once: the second email's "Re:" is not repeated.
    expect(await thread.getByText('Re: Quick question, Ann').count()).toBe(0);
    // The emails and the reply are not listed again outside the thread; the status changes are.
    expect(await page.locator('[data-testid="timeline-item"][data-kind="execution"]').count()).toBe(0);
    await page.locator('[data-testid="timeline-item"][data-kind="change"]').filter({ hasText: /exited/ }).first().waitFor();
    await accessible('lead with a thread');
    await screenshot(page, 'lead-thread');

    await thread.getByRole('button', { name: 'Collapse thread' }).click();
    await messages.first().waitFor({ state: 'hidden' });
    await thread.getByRole('button', { name: 'Show 4 messages' }).click();
    await messages.nth(3).waitFor();
    expect(await thread.getByRole('button', { name: 'Collapse thread' }).getAttribute('aria-expanded')).toBe('true');

    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await messages.nth(3).waitFor();
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      expect(overflow).toBeLessThanOrEqual(1);
      await screenshot(page, 'phone-lead-thread');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  }, 120_000);
});
