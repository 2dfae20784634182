/**
 * Email end to end with the live SendGrid and Postmark adapters against the fakes: opens move
 * branches, replies (Postmark inbound JSON, SendGrid Inbound Parse multipart) exit, and the
 * one-click unsubscribe link suppresses and exits.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postmarkInbound, postmarkMessageIdHeader, sendgridInbound, sendgridMessageIdHeader } from '../../src/devtools/fakes/inboundEmail.ts';
import { type LiveKit, OPEN, startLiveKit } from './liveKit.ts';

const opened = {
  name: 'Opened?',
  ...OPEN,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello {{ lead.firstName }}, quick question.' },
    { id: 'opened', type: 'branch', when: { event: 'email.opened', step: 'intro' }, within: 'P1D', then: 'hot', else: 'cold' },
    { id: 'hot', type: 'end' },
    { id: 'cold', type: 'end' },
  ],
};

const twoEmails = {
  name: 'Two emails',
  ...OPEN,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello.' },
    { id: 'pause', type: 'wait', duration: 'P2D' },
    { id: 'nudge', type: 'email', subject: 'Following up', body: 'Any thoughts?' },
  ],
};

describe('email through SendGrid', () => {
  let kit: LiveKit;
  beforeAll(async () => {
    kit = await startLiveKit();
  });
  afterAll(async () => kit?.close());

  test('sent → opened (signed webhook) → the branch takes `then`; a duplicate delivery is one event', async () => {
    const leadId = await kit.addLead({ email: 'ann@acme.test', firstName: 'Ann' });
    const enrollmentId = await kit.enroll(await kit.addSequence(opened), leadId);
    await kit.drain();
    const mail = kit.fakes.sendgrid.sent.find((m) => m.to === 'ann@acme.test')!;
    expect(mail.customArgs.execution_id).toBeDefined();
    expect((await kit.enrollment(enrollmentId)).currentStepId).toBe('opened');

    const at = { timestamp: kit.seconds() };
    // Out of order on purpose: the open arrives before the delivery.
    const events = [kit.fakes.sendgrid.event('open', mail.messageId, at), kit.fakes.sendgrid.event('delivered', mail.messageId, at)];
    const deliveries = await kit.fakes.sendgrid.emit(`${kit.url}/webhooks/sendgrid`, events, { timestamp: kit.seconds(), duplicate: true });
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(JSON.parse(deliveries[0]!.responseBody)).toMatchObject({ received: 2, recorded: 2 });
    expect(JSON.parse(deliveries[1]!.responseBody)).toMatchObject({ received: 2, duplicate: 2, recorded: 0 });

    await kit.drain();
    const steps = await kit.steps(enrollmentId);
    expect(steps.map((s) => s.stepId)).toEqual(['intro', 'opened', 'hot']);
    expect(steps[1]!.metadata).toMatchObject({ branch: 'then' });
    expect(await kit.events(leadId)).toEqual(
      expect.arrayContaining([
        { type: 'email.opened', provider: 'sendgrid' },
        { type: 'email.delivered', provider: 'sendgrid' },
      ]),
    );
    expect((await kit.events(leadId)).length).toBe(2);
  });

  test('an Inbound Parse reply (multipart, signed) matched by In-Reply-To exits the enrollment as replied', async () => {
    const leadId = await kit.addLead({ email: 'bo@acme.test', firstName: 'Bo' });
    const enrollmentId = await kit.enroll(await kit.addSequence(twoEmails), leadId);
    await kit.drain();
    const mail = kit.fakes.sendgrid.sent.find((m) => m.to === 'bo@acme.test')!;

    // A different sender address: only the In-Reply-To header can tie it to Bo's enrollment.
    const { rawBody, contentType } = sendgridInbound({
      from: 'bo.private@home.test',
      fromName: 'Bo',
      to: 'sales@us.test',
      subject: 'Re: Hi Bo',
      text: 'Sounds good, call me.',
      inReplyTo: sendgridMessageIdHeader(mail.messageId),
    });
    const response = await fetch(`${kit.url}/webhooks/sendgrid/inbound`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...kit.fakes.sendgrid.sign(rawBody, kit.seconds()) },
      body: rawBody,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ recorded: 1 });

    await kit.drain();
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'exited', statusReason: 'replied' });
    kit.clock.advance(3 * 86_400_000);
    await kit.drain();
    expect(kit.fakes.sendgrid.sent.filter((m) => m.to === 'bo@acme.test')).toHaveLength(1);
  });

  test('every email carries a working one-click unsubscribe: GET confirms, POST suppresses and exits', async () => {
    const leadId = await kit.addLead({ email: 'cy@acme.test', firstName: 'Cy' });
    const enrollmentId = await kit.enroll(await kit.addSequence(twoEmails), leadId);
    await kit.drain();
    const mail = kit.fakes.sendgrid.sent.find((m) => m.to === 'cy@acme.test')!;
    const headers = mail.body.headers as Record<string, string>;
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const link = /^<(https:\/\/touchpoint\.test\/unsubscribe\/[^>]+)>$/.exec(headers['List-Unsubscribe']!)![1]!;
    const content = mail.body.content as Array<{ value: string }>;
    expect(content[0]!.value).toContain(`Unsubscribe: ${link}`);
    const path = new URL(link).pathname;

    const page = await fetch(`${kit.url}${path}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await kit.enrollment(enrollmentId)).status).not.toBe('exited'); // a GET changes nothing

    const oneClick = () =>
      fetch(`${kit.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    expect((await oneClick()).status).toBe(200);
    expect((await oneClick()).status).toBe(200); // a second click is harmless
    await kit.drain();
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'exited', statusReason: 'unsubscribed' });
    const suppressions = await kit.db.query(`select channel, address from suppressions where address = 'cy@acme.test'`);
    expect(suppressions).toEqual([{ channel: 'email', address: 'cy@acme.test' }]);
    expect((await kit.events(leadId)).filter((e) => e.type === 'email.unsubscribed')).toHaveLength(1);

    const forged = `${path.slice(0, -3)}AAA`;
    expect((await fetch(`${kit.url}${forged}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status).toBe(404);
  });
});

describe('email through Postmark', () => {
  let kit: LiveKit;
  beforeAll(async () => {
    kit = await startLiveKit({ env: { EMAIL_PROVIDER: 'postmark' } });
  });
  afterAll(async () => kit?.close());

  const auth = () => kit.fakes.postmark.sign();

  test('an Open webhook (Basic auth) moves the branch; a retried one with the same trace id is one event', async () => {
    const leadId = await kit.addLead({ email: 'dee@acme.test', firstName: 'Dee' });
    const enrollmentId = await kit.enroll(await kit.addSequence(opened), leadId);
    await kit.drain();
    const mail = kit.fakes.postmark.sent.find((m) => m.to === 'dee@acme.test')!;
    expect(mail.metadata.execution_id).toBeDefined();

    const open = kit.fakes.postmark.event('Open', mail.messageId, { at: kit.clock.now().toISOString() });
    const deliveries = await kit.fakes.postmark.emit(`${kit.url}/webhooks/postmark`, [open], { duplicate: true });
    expect(deliveries.map((d) => JSON.parse(d.responseBody))).toMatchObject([{ recorded: 1 }, { duplicate: 1 }]);
    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['intro', 'opened', 'hot']);
    expect(leadId).toBeDefined();
  });

  test('an inbound JSON reply matched by In-Reply-To exits the enrollment as replied', async () => {
    const leadId = await kit.addLead({ email: 'eve@acme.test', firstName: 'Eve' });
    const enrollmentId = await kit.enroll(await kit.addSequence(twoEmails), leadId);
    await kit.drain();
    const mail = kit.fakes.postmark.sent.find((m) => m.to === 'eve@acme.test')!;

    const reply = postmarkInbound({
      from: 'eve.other@home.test',
      to: 'sales@us.test',
      subject: 'Re: Hi Eve',
      text: 'Yes please.',
      inReplyTo: postmarkMessageIdHeader(mail.messageId),
    });
    const post = () =>
      fetch(`${kit.url}/webhooks/postmark/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth() },
        body: JSON.stringify(reply),
      });
    expect(await (await post()).json()).toMatchObject({ recorded: 1 });
    expect(await (await post()).json()).toMatchObject({ duplicate: 1 });
    await kit.drain();
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'exited', statusReason: 'replied' });
    expect((await kit.events(leadId)).map((e) => e.type)).toEqual(['email.replied']);
  });

  test('an out-of-office auto-reply is acknowledged and changes nothing', async () => {
    const leadId = await kit.addLead({ email: 'fay@acme.test', firstName: 'Fay' });
    const enrollmentId = await kit.enroll(await kit.addSequence(twoEmails), leadId);
    await kit.drain();
    const reply = postmarkInbound({
      from: 'fay@acme.test',
      to: 'sales@us.test',
      subject: 'Out of office',
      text: 'Back Monday.',
      extraHeaders: { 'Auto-Submitted': 'auto-replied' },
    });
    const response = await fetch(`${kit.url}/webhooks/postmark/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify(reply),
    });
    expect(await response.json()).toMatchObject({ received: 0 });
    expect((await kit.enrollment(enrollmentId)).status).not.toBe('exited');
    expect(await kit.events(leadId)).toEqual([]);
  });
});
