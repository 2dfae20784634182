/**
 * A reply stops a lead's sequences only when the inbound provider's SPF/DKIM verdicts back its
 * From address. A forged one (SPF softfail, or SPF/DKIM passing only for the forger's domain)
 * is kept on the lead's timeline as `email.reply_unverified` and stops nothing; a domain that
 * publishes neither SPF nor DKIM cannot be judged and is trusted as before.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type InboundEmail, postmarkInbound, sendgridInbound } from '../../src/devtools/fakes/inboundEmail.ts';
import { type LiveKit, OPEN, startLiveKit } from './liveKit.ts';

const twoEmails = {
  name: 'Two emails',
  ...OPEN,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello.' },
    { id: 'pause', type: 'wait', duration: 'P2D' },
    { id: 'nudge', type: 'email', subject: 'Following up', body: 'Any thoughts?' },
  ],
};

let kit: LiveKit;
beforeAll(async () => {
  kit = await startLiveKit();
});
afterAll(async () => kit?.close());

const providers = {
  sendgrid: async (email: InboundEmail) => {
    const { rawBody, contentType } = sendgridInbound(email);
    return kit.runtime.app.inject({
      method: 'POST',
      url: '/webhooks/sendgrid/inbound',
      headers: { 'content-type': contentType, ...kit.fakes.sendgrid.sign(rawBody, kit.seconds()) },
      payload: rawBody,
    });
  },
  postmark: async (email: InboundEmail) =>
    kit.runtime.app.inject({
      method: 'POST',
      url: '/webhooks/postmark/inbound',
      headers: { 'content-type': 'application/json', ...kit.fakes.postmark.sign() },
      payload: JSON.stringify(postmarkInbound(email)),
    }),
};

let n = 0;

describe.each(['sendgrid', 'postmark'] as const)('replies through %s', (provider) => {
  async function replyFrom(authentication: InboundEmail['authentication']) {
    n += 1;
    const email = `lead${n}@acme.test`;
    const leadId = await kit.addLead({ email, firstName: 'Lee' });
    const enrollmentId = await kit.enroll(await kit.addSequence(twoEmails), leadId);
    await kit.drain();
    const response = await providers[provider]({ from: email, to: 'sales@us.test', subject: 'Re: Hi', text: 'Stop writing.', authentication });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ recorded: 1 });
    await kit.drain();
    const [event] = await kit.db.query<{ type: string; data: { authentication?: { verdict: string } } }>(
      `select type, data from events where lead_id = $1 and type like 'email.repl%'`,
      [leadId],
    );
    return { enrollment: await kit.enrollment(enrollmentId), event: event! };
  }

  test.each(['softfail', 'foreign'] as const)('a forged From (%s) is on the timeline as unverified and stops nothing', async (how) => {
    const { enrollment, event } = await replyFrom(how);
    expect(enrollment.status).not.toBe('exited');
    expect(event.type).toBe('email.reply_unverified');
    expect(event.data.authentication).toMatchObject({ verdict: 'fail' });
  });

  test('an authenticated reply exits the enrollment as replied', async () => {
    const { enrollment, event } = await replyFrom('pass');
    expect(enrollment).toMatchObject({ status: 'exited', statusReason: 'replied' });
    expect(event.type).toBe('email.replied');
    expect(event.data.authentication).toMatchObject({ verdict: 'pass' });
  });

  test('a domain that publishes neither SPF nor DKIM cannot be judged: trusted as before', async () => {
    const { enrollment, event } = await replyFrom('none');
    expect(enrollment).toMatchObject({ status: 'exited', statusReason: 'replied' });
    expect(event.data.authentication).toMatchObject({ verdict: 'none' });
  });
});
