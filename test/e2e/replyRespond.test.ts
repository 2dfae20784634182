/**
 * Issue 20, answering a reply by hand, in Debian's Chromium: a sequence sends through a mailbox
 * (mock delivery: recorded, no SMTP), the lead's reply arrives as the IMAP watcher records it,
 * and from the Replies inbox an operator writes an answer in the reply's Answer box and sends
 * it; the box says it was sent, and the lead's timeline shows it in the thread, written by hand.
 * A reply whose thread has no mailbox offers the mail client (mailto) instead. axe-core on each
 * state, no page errors. Waits are Playwright's auto-waiting on a visible state.
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
const OPEN = {
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
};

describe.skipIf(!run)('answering a reply from the inbox in a browser', () => {
  let runtime: Runtime;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let token: string;
  const problems: string[] = [];
  const accessible = async (name: string) => {
    for (const violation of await seriousA11yViolations(page)) problems.push(`axe ${name}: ${violation}`);
  };
  let admin: string;
  /** Setting up, as an admin. */
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as any;
  };

  beforeAll(async () => {
    buildDashboard();
    const db = await openMemoryDatabase();
    runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', TOUCHPOINT_SECRET_KEY: 'cd'.repeat(32) }), { db, worker: false });
    baseUrl = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const workspace = await ensureWorkspace(runtime.db, 'default');
    token = (await createToken(runtime.db, workspace.id, 'operator', 'e2e answers')).token;
    admin = (await createToken(runtime.db, workspace.id, 'admin', 'e2e setup')).token;

    // A mailbox (an admin adds it), a lead, a sequence that sends through the mailbox, its send.
    const mailbox = await api('POST', '/api/mailboxes', { name: 'Rita', fromEmail: 'rita@acme.test', fromName: 'Rita Rep', smtp: { host: '127.0.0.1', port: 1, secure: false, user: 'rita', password: 'not-real' }, dailyLimit: 20 });
    const lead = await api('POST', '/api/leads', { email: 'ann@lead.test', firstName: 'Ann', lastName: 'Lee' });
    const bob = await api('POST', '/api/leads', { email: 'bob@lead.test', firstName: 'Bob', lastName: 'Provider' });
    const sequence = await api('POST', '/api/sequences', {
      name: 'Through Rita',
      ...OPEN,
      mailboxes: [mailbox.id],
      steps: [
        { id: 'intro', type: 'email', subject: 'Quick question, {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}, a quick question.' },
        { id: 'later', type: 'wait', duration: 'P7D' },
      ],
    });
    expect(sequence.id, JSON.stringify(sequence)).toBeTruthy();
    await api('PATCH', `/api/sequences/${sequence.id}`, { status: 'active' });
    const enrolled = await api('POST', `/api/sequences/${sequence.id}/enrollments`, { leadIds: [lead.id] });
    expect(enrolled.enrolled, JSON.stringify(enrolled)).toHaveLength(1);
    await runtime.engine.dispatcher.drain();
    const [sent] = await runtime.db.query<{ messageId: string }>(`select rendered ->> 'messageId' as "messageId" from sequence_executions where lead_id = $1`, [lead.id]);
    expect(sent?.messageId).toBeTruthy();
    const now = new Date();
    await runtime.engine.ingest({
      type: 'email.replied',
      provider: 'imap',
      workspaceId: workspace.id,
      providerEventId: `imap:${workspace.id}:mid:ann-answer@lead.test`,
      occurredAt: now,
      address: { channel: 'email', value: 'ann@lead.test' },
      inReplyTo: [sent!.messageId],
      data: { mailboxId: mailbox.id, messageId: 'ann-answer@lead.test', subject: 'Re: Quick question, Ann', from: 'ann@lead.test', text: 'Sounds good, tell me more.' },
    });
    // A reply matched to no mailbox thread (the provider's inbound parse, no send of ours).
    await runtime.engine.ingest({
      type: 'email.replied',
      provider: 'sendgrid',
      providerEventId: 'bob-inbound-1',
      occurredAt: new Date(now.getTime() - 60_000),
      address: { channel: 'email', value: 'bob@lead.test' },
      data: { subject: 'Hello?', from: 'bob@lead.test', text: 'Who is this?' },
    });
    expect(bob.id).toBeTruthy();

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

  it('writes an answer in the inbox, sends it through the mailbox, and shows it in the thread', async () => {
    await signInWithToken(page, baseUrl, token);
    await page.getByRole('link', { name: 'Replies' }).click();
    const ann = page.getByTestId('reply').filter({ hasText: 'Ann Lee' });
    await ann.getByTestId('reply-text').filter({ hasText: 'tell me more' }).waitFor();
    // Without a mailbox thread: the mail client, with the subject filled in.
    const bob = page.getByTestId('reply').filter({ hasText: 'Bob Provider' });
    await expect.poll(() => bob.getByRole('link', { name: /^Email from your mail client/ }).getAttribute('href')).toBe('mailto:bob@lead.test?subject=Re%3A%20Hello%3F');
    expect(await bob.getByRole('button', { name: 'Answer' }).count()).toBe(0);

    await ann.getByRole('button', { name: 'Answer' }).click();
    const box = ann.getByTestId('answer-box');
    await box.getByText('rita@acme.test').waitFor();
    expect(await box.getByLabel('Subject').inputValue()).toBe('Re: Quick question, Ann');
    await box.getByLabel('Your answer to Ann Lee').fill('Happy to. Does Tuesday at 10 work?');
    await accessible('the answer box');
    await box.getByRole('button', { name: 'Send answer' }).click();
    await box.getByTestId('answer-sent').filter({ hasText: 'Sent from rita@acme.test' }).waitFor();
    expect(await box.getByLabel('Your answer to Ann Lee').inputValue()).toBe('');
    await accessible('the answer sent');

    await ann.getByRole('link', { name: 'Ann Lee' }).click();
    const thread = page.getByTestId('thread').filter({ hasText: 'Quick question, Ann' });
    const answer = thread.locator('[data-testid="thread-message"][data-kind="activity"]');
    await answer.getByText('Does Tuesday at 10 work?').waitFor();
    await answer.getByText(/Sent by Rita Rep <rita@acme\.test> · mailbox Rita · written by/).waitFor();
    await answer.getByText('sent by hand').waitFor();
    expect(await thread.locator('[data-testid="thread-message"]').count()).toBe(3);
    await accessible('the thread with the answer');
  }, 120_000);
});
