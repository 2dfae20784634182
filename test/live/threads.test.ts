/**
 * Threads, HTML email and tracking with the live SendGrid and Postmark adapters against the
 * fakes, on PGlite and PostgreSQL: every email carries our Message-ID, a subject-less step
 * replies in the thread (Re:, In-Reply-To, References), a reply naming our Message-ID exits,
 * Markdown and plain text go out as text + HTML with lead data escaped, and the open pixel and
 * click redirects (a bare URL of a plain-text email included) record events that move a branch —
 * while forged tokens get a bare 404.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postmarkInbound } from '../../src/devtools/fakes/inboundEmail.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { type LiveKit, OPEN, startLiveKit } from './liveKit.ts';

const kinds = await databaseKinds();

const thread = {
  name: 'Thread',
  ...OPEN,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello.' },
    { id: 'w1', type: 'wait', duration: 'P2D' },
    { id: 'bump', type: 'email', body: 'Any thoughts?' },
    { id: 'w2', type: 'wait', duration: 'P2D' },
    { id: 'last', type: 'email', body: 'Last note from me.' },
  ],
};

const tracked = {
  name: 'Tracked',
  ...OPEN,
  tracking: { opens: true, clicks: true },
  steps: [
    {
      id: 'intro',
      type: 'email',
      subject: 'Hi {{ lead.firstName }}',
      format: 'markdown',
      body: 'Hi **{{ lead.firstName }}** from {{ lead.company }},\n\n[Book a demo](https://us.test/demo?src=mail&x=1) or [write](mailto:sales@us.test).',
    },
    { id: 'clicked', type: 'branch', when: { event: 'email.clicked', step: 'intro' }, within: 'P3D', then: 'hot', else: 'cold' },
    { id: 'hot', type: 'end' },
    { id: 'cold', type: 'end' },
  ],
};

/** The default format: plain text, a bare URL in it, tracked. */
const trackedText = {
  name: 'Tracked text',
  ...OPEN,
  tracking: { opens: true, clicks: true },
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hi {{ lead.firstName }},\n\nThe deck: https://us.test/deck?from=mail&x=1.\nTalk soon' },
    { id: 'clicked', type: 'branch', when: { event: 'email.clicked', step: 'intro' }, within: 'P3D', then: 'hot', else: 'cold' },
    { id: 'hot', type: 'end' },
    { id: 'cold', type: 'end' },
  ],
};

type Sent = { headers: Record<string, string>; messageIdHeader: string; body: Record<string, unknown>; to: string };

function threadChecks(sent: Sent[], rendered: Array<Record<string, unknown> | null>) {
  expect(sent).toHaveLength(3);
  const [first, second, third] = sent as [Sent, Sent, Sent];
  const ids = rendered.map((r) => `<${String(r?.messageId)}>`);
  // Our Message-ID, in the sender's domain, on every email, and the one the row stored.
  expect(first.headers['Message-ID']).toMatch(/^<[0-9a-f-]{36}@us\.test>$/);
  expect(sent.map((m) => m.messageIdHeader)).toEqual(ids);
  expect(first.headers['In-Reply-To']).toBeUndefined();
  expect(second.headers['In-Reply-To']).toBe(ids[0]);
  expect(second.headers.References).toBe(ids[0]);
  expect(third.headers['In-Reply-To']).toBe(ids[1]);
  expect(third.headers.References).toBe(`${ids[0]} ${ids[1]}`);
  expect(rendered.map((r) => r?.subject)).toEqual(['Hi Ann', 'Re: Hi Ann', 'Re: Hi Ann']);
}

describe.each(kinds)('threads and tracking on %s', (kind) => {
  let database: TestDatabase;
  let sendgrid: LiveKit;
  let postmark: LiveKit;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    sendgrid = await startLiveKit({ db: database.db });
    postmark = await startLiveKit({ db: database.db, env: { EMAIL_PROVIDER: 'postmark' } });
  });
  afterAll(async () => {
    await sendgrid?.close();
    await postmark?.close();
    await database?.close();
  });

  async function runThread(kit: LiveKit, email: string) {
    const leadId = await kit.addLead({ email, firstName: 'Ann' });
    const enrollmentId = await kit.enroll(await kit.addSequence(thread), leadId);
    for (let i = 0; i < 3; i++) {
      await kit.drain();
      kit.clock.advance(2 * 86_400_000 + 1000);
    }
    await kit.drain();
    const steps = (await kit.steps(enrollmentId)).filter((s) => s.stepId !== 'w1' && s.stepId !== 'w2');
    return { leadId, enrollmentId, rendered: steps.map((s) => s.rendered) };
  }

  test('SendGrid: Message-ID on every email; subject-less steps reply in the thread', async () => {
    const { rendered } = await runThread(sendgrid, `ann.sg.${kind}@acme.test`);
    const sent = sendgrid.fakes.sendgrid.sent.filter((m) => m.to === `ann.sg.${kind}@acme.test`);
    threadChecks(sent, rendered);
    expect(sent.map((m) => m.body.subject)).toEqual(['Hi Ann', 'Re: Hi Ann', 'Re: Hi Ann']);
  });

  test('Postmark: the same headers; a reply naming our Message-ID is matched to that email', async () => {
    const email = `ann.pm.${kind}@acme.test`;
    const leadId = await postmark.addLead({ email, firstName: 'Ann' });
    const enrollmentId = await postmark.enroll(await postmark.addSequence(thread), leadId);
    for (let i = 0; i < 3; i++) {
      await postmark.drain();
      postmark.clock.advance(2 * 86_400_000 + 1000);
    }
    const sent = postmark.fakes.postmark.sent.filter((m) => m.to === email);
    const rendered = (await postmark.steps(enrollmentId)).filter((s) => s.stepId.startsWith('w') === false).map((s) => s.rendered);
    threadChecks(sent, rendered);
    expect(sent.map((m) => m.body.Subject)).toEqual(['Hi Ann', 'Re: Hi Ann', 'Re: Hi Ann']);

    // A reply from another address, answering the second email by our own Message-ID.
    const reply = postmarkInbound({ from: 'ann.home@else.test', to: 'sales@us.test', subject: 'Re: Hi Ann', text: 'Yes.', inReplyTo: sent[1]!.messageIdHeader });
    const response = await fetch(`${postmark.url}/webhooks/postmark/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...postmark.fakes.postmark.sign() },
      body: JSON.stringify(reply),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ recorded: 1 });
    // Matched by the thread, not the address: the reply is on the second email's execution.
    const [event] = await postmark.db.query<{ stepId: string; enrollmentId: string }>(
      `select step_id as "stepId", enrollment_id as "enrollmentId" from events where lead_id = $1 and type = 'email.replied'`,
      [leadId],
    );
    expect(event).toEqual({ stepId: 'bump', enrollmentId });
  });

  test('Markdown goes out as text + HTML on both adapters, lead data escaped in the HTML', async () => {
    const plain = { ...tracked, name: 'Untracked', tracking: undefined };
    const lead = { firstName: 'Bo <b>', company: 'A&B' };
    const sgLead = await sendgrid.addLead({ email: `bo.sg.${kind}@acme.test`, ...lead });
    await sendgrid.enroll(await sendgrid.addSequence(plain), sgLead);
    await sendgrid.drain();
    const sg = sendgrid.fakes.sendgrid.sent.find((m) => m.to === `bo.sg.${kind}@acme.test`)!;
    const content = sg.body.content as Array<{ type: string; value: string }>;
    expect(content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(content[0]!.value).toContain('Hi **Bo <b>** from A&B');
    expect(content[1]!.value).toContain('<strong>Bo &lt;b&gt;</strong> from A&amp;B');
    expect(content[1]!.value).toContain('href="https://us.test/demo?src=mail&amp;x=1"');
    expect(sg.body.tracking_settings).toBeUndefined();

    const pmLead = await postmark.addLead({ email: `bo.pm.${kind}@acme.test`, ...lead });
    await postmark.enroll(await postmark.addSequence(plain), pmLead);
    await postmark.drain();
    const pm = postmark.fakes.postmark.sent.find((m) => m.to === `bo.pm.${kind}@acme.test`)!;
    expect(pm.body.TextBody).toContain('Hi **Bo <b>** from A&B');
    expect(pm.body.HtmlBody).toContain('<strong>Bo &lt;b&gt;</strong> from A&amp;B');
    expect(pm.body.TrackOpens).toBe(true);
  });

  test('plain text goes out as text + HTML on both adapters: escaped, paragraphs kept, the URL a link, no styling', async () => {
    const plain = { ...trackedText, name: 'Untracked text', tracking: undefined };
    const lead = { firstName: '<script>alert(1)</script>' };
    const sgLead = await sendgrid.addLead({ email: `dee.sg.${kind}@acme.test`, ...lead });
    await sendgrid.enroll(await sendgrid.addSequence(plain), sgLead);
    await sendgrid.drain();
    const sg = sendgrid.fakes.sendgrid.sent.find((m) => m.to === `dee.sg.${kind}@acme.test`)!;
    const content = sg.body.content as Array<{ type: string; value: string }>;
    expect(content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(content[0]!.value).toContain('Hi <script>alert(1)</script>,\n\nThe deck: https://us.test/deck?from=mail&x=1.');
    const sgHtml = content[1]!.value;
    expect(sgHtml).toContain('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;,</p>');
    expect(sgHtml).toContain('The deck: <a href="https://us.test/deck?from=mail&amp;x=1">https://us.test/deck?from=mail&amp;x=1</a>.<br>\nTalk soon');
    expect(sgHtml).not.toContain('<script>');
    // The body itself is unstyled (the unsubscribe footer after it is the one small grey line every email gets).
    expect(sgHtml.slice(0, sgHtml.indexOf('</div>'))).not.toMatch(/style=|<img/);
    // The unsubscribe link is in both parts; nothing tracks, so the provider's defaults stay.
    expect(content[0]!.value).toMatch(/Unsubscribe: https:\/\/touchpoint\.test\//);
    expect(sgHtml).toMatch(/<a href="https:\/\/touchpoint\.test\/[^"]+">Unsubscribe<\/a>/);
    expect(sg.body.tracking_settings).toBeUndefined();

    const pmLead = await postmark.addLead({ email: `dee.pm.${kind}@acme.test`, ...lead });
    await postmark.enroll(await postmark.addSequence(plain), pmLead);
    await postmark.drain();
    const pm = postmark.fakes.postmark.sent.find((m) => m.to === `dee.pm.${kind}@acme.test`)!;
    expect(pm.body.TextBody).toContain('Hi <script>alert(1)</script>,');
    expect(pm.body.HtmlBody).toContain('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;,</p>');
    expect(pm.body.HtmlBody).toContain('<a href="https://us.test/deck?from=mail&amp;x=1">');
    expect(pm.body.HtmlBody).not.toContain('<script>');
  });

  test('a bare URL in a plain-text email is click-tracked, and the pixel added, when tracking is on', async () => {
    const kit = sendgrid;
    const email = `eve.${kind}@acme.test`;
    const leadId = await kit.addLead({ email, firstName: 'Eve' });
    const enrollmentId = await kit.enroll(await kit.addSequence(trackedText), leadId);
    await kit.drain();
    const mail = kit.fakes.sendgrid.sent.find((m) => m.to === email)!;
    const [text, html] = (mail.body.content as Array<{ value: string }>).map((c) => c.value) as [string, string];
    expect(mail.body.tracking_settings).toMatchObject({ click_tracking: { enable: false }, open_tracking: { enable: false } });
    expect(text).toContain('The deck: https://us.test/deck?from=mail&x=1.'); // the text part as written
    expect(html).not.toContain('href="https://us.test/deck');
    const click = /href="https:\/\/touchpoint\.test(\/t\/c\/[^"]+)"/.exec(html)![1]!;
    expect(html).toMatch(/<img src="https:\/\/touchpoint\.test\/t\/o\/[^"]+"/);
    const redirect = await fetch(`${kit.url}${click}`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://us.test/deck?from=mail&x=1');
    expect((await kit.events(leadId)).filter((e) => e.type === 'email.clicked')).toEqual([{ type: 'email.clicked', provider: 'touchpoint' }]);
    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['intro', 'clicked', 'hot']);
  });

  test('open pixel and click redirect record one event each and move the branch; forged tokens are a bare 404', async () => {
    const kit = postmark;
    const email = `cy.${kind}@acme.test`;
    const leadId = await kit.addLead({ email, firstName: 'Cy', company: 'Cyco' });
    const enrollmentId = await kit.enroll(await kit.addSequence(tracked), leadId);
    await kit.drain();
    const mail = kit.fakes.postmark.sent.find((m) => m.to === email)!;
    // Touchpoint tracks, so Postmark must not track again.
    expect(mail.body).toMatchObject({ TrackOpens: false, TrackLinks: 'None' });
    const html = String(mail.body.HtmlBody);
    const pixel = /<img src="https:\/\/touchpoint\.test(\/t\/o\/[^"]+)"/.exec(html)![1]!;
    const click = /href="https:\/\/touchpoint\.test(\/t\/c\/[^"]+)"/.exec(html)![1]!;
    expect(html).toContain('href="mailto:sales@us.test"');
    expect(String(mail.body.TextBody)).toContain('https://us.test/demo?src=mail&x=1');

    const opened = await fetch(`${kit.url}${pixel}`);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('image/gif');
    expect((await fetch(`${kit.url}${pixel}`)).status).toBe(200); // a second open: served, not counted
    const redirect = await fetch(`${kit.url}${click}`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://us.test/demo?src=mail&x=1');

    const events = await kit.events(leadId);
    expect(events.filter((e) => e.type === 'email.opened')).toEqual([{ type: 'email.opened', provider: 'touchpoint' }]);
    expect(events.filter((e) => e.type === 'email.clicked')).toEqual([{ type: 'email.clicked', provider: 'touchpoint' }]);
    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['intro', 'clicked', 'hot']);

    // Forgeries: a changed destination, another execution's id, a cut MAC, a click token used as a pixel.
    const [id, target, mac] = click.slice('/t/c/'.length).split('.') as [string, string, string];
    const evil = Buffer.from('https://evil.test/', 'utf8').toString('base64url');
    const otherId = Buffer.from('00000000000040008000000000000000', 'hex').toString('base64url');
    const forged = [
      `/t/c/${id}.${evil}.${mac}`,
      `/t/c/${otherId}.${target}.${mac}`,
      `/t/c/${id}.${target}.${mac.slice(0, -2)}AA`,
      `/t/o/${id}.${mac}`,
      `/t/o/${otherId}.${pixel.split('.')[1]}`,
    ];
    for (const path of forged) {
      const response = await fetch(`${kit.url}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toBe('Not found');
    }
    expect((await kit.events(leadId)).length).toBe(events.length);
  });
});
