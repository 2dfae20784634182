/**
 * SMS end to end with the live Telnyx adapter against the fake: STOP suppresses, exits where the
 * sequence says so and skips later texts elsewhere; quiet hours hold every text until 08:00
 * local; the AI writer drafts through the fake OpenAI-compatible API and falls back on failure.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type LiveKit, OPEN, startLiveKit } from './liveKit.ts';

describe('SMS STOP', () => {
  let kit: LiveKit;
  beforeAll(async () => {
    kit = await startLiveKit();
  });
  afterAll(async () => kit?.close());

  test('STOP (signed message.received) suppresses the number, exits by default, and later texts are skipped', async () => {
    const phone = '+15553330001';
    const leadId = await kit.addLead({ phone, email: 'gil@acme.test', firstName: 'Gil' });
    const byDefault = await kit.enroll(
      await kit.addSequence({
        name: 'Texts',
        ...OPEN,
        steps: [
          { id: 'hello', type: 'sms', text: 'Hi {{ lead.firstName }}' },
          { id: 'pause', type: 'wait', duration: 'P1D' },
          { id: 'again', type: 'sms', text: 'Hi again' },
        ],
      }),
      leadId,
    );
    // A sequence that does not exit on opt-out still never texts a suppressed number.
    const keepsGoing = await kit.enroll(
      await kit.addSequence({
        name: 'Keeps going',
        ...OPEN,
        exitOn: ['email.replied'],
        steps: [
          { id: 'later', type: 'wait', duration: 'PT1H' },
          { id: 'text', type: 'sms', text: 'One more thing' },
          { id: 'mail', type: 'email', subject: 'Hi', body: 'By email instead.' },
        ],
      }),
      leadId,
    );
    await kit.drain();
    expect(kit.fakes.telnyx.messages.map((m) => m.text)).toEqual(['Hi Gil']);

    const stop = kit.stamp(kit.fakes.telnyx.messageEvent('message.received', { from: phone, to: '+15550001111', text: 'STOP' }));
    const deliveries = await kit.fakes.telnyx.emit(`${kit.url}/webhooks/telnyx`, [stop], { timestamp: kit.seconds(), duplicate: true });
    expect(deliveries.map((d) => JSON.parse(d.responseBody))).toMatchObject([{ recorded: 1 }, { duplicate: 1 }]);

    await kit.drain();
    expect(await kit.enrollment(byDefault)).toMatchObject({ status: 'exited', statusReason: 'opted_out' });
    expect(await kit.db.query(`select channel, address, reason from suppressions where address = $1`, [phone])).toEqual([
      { channel: 'sms', address: phone, reason: 'sms.opted_out' },
    ]);

    kit.clock.advance(2 * 86_400_000);
    await kit.drain();
    const steps = await kit.steps(keepsGoing);
    expect(steps.map((s) => [s.stepId, s.status])).toEqual([
      ['later', 'succeeded'],
      ['text', 'skipped'],
      ['mail', 'succeeded'],
    ]);
    expect(steps[1]!.metadata).toMatchObject({ reason: 'suppressed' });
    expect(kit.fakes.telnyx.messages).toHaveLength(1);
    expect(kit.fakes.telnyx.requests.filter((r) => r.path === '/v2/messages')).toHaveLength(1);
  });

  test('delivery receipts (message.finalized) reach the timeline; an unknown message is acknowledged', async () => {
    const phone = '+15553330002';
    const leadId = await kit.addLead({ phone, firstName: 'Hal' });
    await kit.enroll(await kit.addSequence({ name: 'One text', ...OPEN, steps: [{ id: 'hello', type: 'sms', text: 'Hi' }] }), leadId);
    await kit.drain();
    const sent = kit.fakes.telnyx.messages.find((m) => m.to === phone)!;
    const finalized = kit.stamp(kit.fakes.telnyx.messageEvent('message.finalized', sent.id));
    const stranger = kit.stamp({ data: { ...finalized.data, id: 'b5a5d5c5-0000-4000-8000-000000000000', payload: { ...finalized.data.payload, id: 'nope', to: [{ phone_number: '+15559999999', status: 'delivered' }] } } });
    const deliveries = await kit.fakes.telnyx.emit(`${kit.url}/webhooks/telnyx`, [finalized, stranger], { timestamp: kit.seconds() });
    expect(deliveries.map((d) => [d.status, JSON.parse(d.responseBody)])).toMatchObject([
      [200, { recorded: 1 }],
      [200, { unmatched: 1 }],
    ]);
    expect(await kit.events(leadId)).toEqual([{ type: 'sms.delivered', provider: 'telnyx' }]);
  });
});

describe('quiet hours', () => {
  let kit: LiveKit;
  beforeAll(async () => {
    kit = await startLiveKit({ start: '2026-03-05T03:00:00Z' }); // 22:00 on Wednesday in New York
  });
  afterAll(async () => kit?.close());

  test('an SMS due at 22:00 local reaches no provider until 08:00, though the schedule is open all day', async () => {
    const leadId = await kit.addLead({ phone: '+15553330003', email: 'ida@acme.test', firstName: 'Ida' });
    const sequenceId = await kit.addSequence({
      name: 'Night text',
      schedule: OPEN.schedule, // quiet hours stay at their default, 21:00–08:00 for sms and voice
      steps: [
        { id: 'mail', type: 'email', subject: 'Hi', body: 'Email is not held by quiet hours.' },
        { id: 'hello', type: 'sms', text: 'Hi {{ lead.firstName }}' },
      ],
    });
    await kit.enroll(sequenceId, leadId);
    await kit.drain();
    expect(kit.fakes.sendgrid.sent).toHaveLength(1);
    expect(kit.fakes.telnyx.requests).toHaveLength(0);

    kit.clock.set('2026-03-05T12:59:00Z'); // 07:59
    await kit.drain();
    expect(kit.fakes.telnyx.requests).toHaveLength(0);

    kit.clock.set('2026-03-05T13:00:00Z'); // 08:00
    await kit.drain();
    expect(kit.fakes.telnyx.messages.map((m) => m.text)).toEqual(['Hi Ida']);
  });
});

describe('AI writer', () => {
  let kit: LiveKit;
  beforeAll(async () => {
    kit = await startLiveKit({ env: { AI_WRITER_TIMEOUT_MS: '300' } });
  });
  afterAll(async () => kit?.close());

  const aiEmail = {
    name: 'AI intro',
    ...OPEN,
    steps: [{ id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello {{ lead.firstName }}', useAiWriter: true }],
  };

  test('the draft is sent, stored on the execution and marked; the template is kept beside it', async () => {
    const leadId = await kit.addLead({ email: 'jo@acme.test', firstName: 'Jo', company: 'Acme' });
    const enrollmentId = await kit.enroll(await kit.addSequence(aiEmail), leadId);
    await kit.drain();
    const request = kit.fakes.writer.lastRequest().body as { model: string; messages: Array<{ role: string; content: string }> };
    expect(request.model).toBe('gpt-4o-mini');
    expect(request.messages.at(-1)!.content).toContain('"company":"Acme"');

    const [execution] = await kit.steps(enrollmentId);
    expect(execution!.rendered).toMatchObject({ aiDraft: true, aiWriter: 'openai', subject: 'Hi Jo', template: { text: 'Hello Jo' } });
    const draft = execution!.rendered!.text as string;
    expect(draft).toMatch(/^Draft [0-9a-f]{8}: /);
    const mail = kit.fakes.sendgrid.sent.find((m) => m.to === 'jo@acme.test')!;
    expect((mail.body.content as Array<{ value: string }>)[0]!.value.startsWith(draft)).toBe(true);
  });

  test('a failing or silent writer falls back to the template and says so', async () => {
    kit.fakes.writer.failNext({ status: 500 });
    const failing = await kit.enroll(await kit.addSequence(aiEmail), await kit.addLead({ email: 'kai@acme.test', firstName: 'Kai' }));
    await kit.drain();
    kit.fakes.writer.hangNext();
    const silent = await kit.enroll(await kit.addSequence(aiEmail), await kit.addLead({ email: 'lu@acme.test', firstName: 'Lu' }));
    await kit.drain();

    const [failed] = await kit.steps(failing);
    expect(failed).toMatchObject({ status: 'succeeded', rendered: { aiDraft: false, aiErrorCode: '500', text: 'Hello Kai' } });
    const [timedOut] = await kit.steps(silent);
    expect(timedOut).toMatchObject({ status: 'succeeded', rendered: { aiDraft: false, aiErrorCode: 'timeout', text: 'Hello Lu' } });
    expect(String(timedOut!.rendered!.aiFallback)).toContain('did not answer');
  });
});
