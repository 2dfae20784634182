/**
 * Voice end to end: the live Telnyx dialer and the call flow against the fake, driven by signed
 * Call Control webhooks. Human, machine and no-answer calls each reach their own branch, and
 * the fake saw exactly the commands each path calls for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TelnyxCallEventType } from '../../src/devtools/fakes/telnyxEvents.ts';
import { type LiveKit, OPEN, startLiveKit } from './liveKit.ts';

const callSequence = {
  name: 'Call',
  ...OPEN,
  steps: [
    { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName }}, this is Dana.', voicemail: 'Sorry I missed you, {{ lead.firstName }}.' },
    { id: 'answered', type: 'branch', when: { event: 'call.answered', step: 'call' }, within: 'PT1H', then: 'human', else: 'is-machine' },
    { id: 'is-machine', type: 'branch', when: { event: 'call.voicemail', step: 'call' }, within: 'PT1M', then: 'voicemail', else: 'is-missed' },
    { id: 'is-missed', type: 'branch', when: { event: 'call.no_answer', step: 'call' }, within: 'PT1M', then: 'no_answer', else: 'unknown' },
    { id: 'human', type: 'end' },
    { id: 'voicemail', type: 'end' },
    { id: 'no_answer', type: 'end' },
    { id: 'unknown', type: 'end' },
  ],
};

describe('voice through Telnyx Call Control', () => {
  let kit: LiveKit;
  beforeAll(async () => {
    kit = await startLiveKit();
  });
  afterAll(async () => kit?.close());

  /** Dials a new lead and answers with the call's control id and execution id. */
  async function dial(phone: string, firstName: string) {
    const leadId = await kit.addLead({ phone, firstName });
    const enrollmentId = await kit.enroll(await kit.addSequence(callSequence), leadId);
    // One call per second per caller id (RATE_LIMIT_VOICE_PER_SENDER_PER_SECOND): a dial the
    // limit defers is placed once the manual clock reaches its slot.
    let call = undefined as ReturnType<typeof kit.fakes.telnyx.calls.get>;
    for (let second = 0; !call && second < 10; second++) {
      if (second > 0) kit.clock.advance(1_000);
      await kit.drain();
      call = [...kit.fakes.telnyx.calls.values()].find((c) => c.to === phone);
    }
    if (!call) throw new Error(`No call was placed to ${phone}.`);
    const [execution] = await kit.db.query<{ id: string }>(`select id from sequence_executions where enrollment_id = $1 and step_id = 'call'`, [enrollmentId]);
    return { leadId, enrollmentId, call, executionId: execution!.id };
  }

  function send(callControlId: string, events: Array<[TelnyxCallEventType, Record<string, unknown>?]>, duplicate = false) {
    const built = events.map(([type, extra]) => kit.stamp(kit.fakes.telnyx.callEvent(type, callControlId, extra)));
    return kit.fakes.telnyx.emit(`${kit.url}/webhooks/telnyx`, built, { timestamp: kit.seconds(), duplicate });
  }

  const commands = (call: { commands: Array<{ action: string; commandId: string | undefined; body: Record<string, unknown> }> }) =>
    call.commands.map((c) => [c.action, c.commandId, c.body.payload]);

  test('a human hears the script, the call is hung up after it, and the branch takes the human path', async () => {
    const { call, enrollmentId, executionId, leadId } = await dial('+15554440001', 'Max');
    expect(call.answeringMachineDetection).toBe('greeting_end');

    // Every webhook delivered twice, as after a missed 200: still one speech, one hangup.
    const first = await send(call.callControlId, [['call.initiated'], ['call.answered'], ['call.machine.detection.ended', { result: 'human' }]], true);
    expect(first.every((d) => d.status === 200)).toBe(true);
    await send(call.callControlId, [['call.speak.ended', { status: 'completed' }]], true);
    await send(call.callControlId, [['call.hangup', { hangup_cause: 'normal_clearing' }]]);

    expect(commands(call)).toEqual([
      ['speak', `${executionId}:speak_script`, 'Hi Max, this is Dana.'],
      ['hangup', `${executionId}:hangup`, undefined],
    ]);
    const speakRequests = kit.fakes.telnyx.requests.filter((r) => r.path === `/v2/calls/${call.callControlId}/actions/speak`);
    expect(speakRequests.length).toBe(2); // the retry re-sent the command with the same command_id

    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['call', 'answered', 'human']);
    expect((await kit.events(leadId)).map((e) => e.type).sort()).toEqual(['call.answered', 'call.completed']);
  });

  test('a machine gets the voicemail after its greeting, then a hangup; the branch takes the voicemail path', async () => {
    const { call, enrollmentId, executionId } = await dial('+15554440002', 'Ned');
    await send(call.callControlId, [['call.answered'], ['call.machine.detection.ended', { result: 'machine' }]]);
    expect(call.commands).toEqual([]); // wait for the greeting to end before speaking
    await send(call.callControlId, [['call.machine.greeting.ended', { result: 'beep_detected' }], ['call.speak.ended', { status: 'completed' }]]);
    await send(call.callControlId, [['call.hangup', { hangup_cause: 'normal_clearing' }]]);
    expect(commands(call)).toEqual([
      ['speak', `${executionId}:speak_voicemail`, 'Sorry I missed you, Ned.'],
      ['hangup', `${executionId}:hangup`, undefined],
    ]);

    await kit.drain();
    kit.clock.advance(3_600_000);
    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['call', 'answered', 'is-machine', 'voicemail']);
  });

  test('no answer: nothing is commanded, and the branch takes the no-answer path', async () => {
    const { call, enrollmentId, leadId } = await dial('+15554440003', 'Oz');
    await send(call.callControlId, [['call.initiated'], ['call.hangup', { hangup_cause: 'no_answer', hangup_source: 'unknown' }]]);
    expect(call.commands).toEqual([]);
    await kit.drain();
    kit.clock.advance(3_600_000);
    await kit.drain();
    kit.clock.advance(60_000);
    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['call', 'answered', 'is-machine', 'is-missed', 'no_answer']);
    expect((await kit.events(leadId)).map((e) => e.type).sort()).toEqual(['call.completed', 'call.no_answer']);
  });

  test('out of order: a detection that arrives after the hangup is recorded, and its command is not retried', async () => {
    const { call, enrollmentId } = await dial('+15554440004', 'Pia');
    const deliveries = await send(call.callControlId, [['call.hangup', { hangup_cause: 'normal_clearing' }], ['call.machine.detection.ended', { result: 'human' }]]);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]); // 90018 "call has ended" is final
    await kit.drain();
    expect((await kit.steps(enrollmentId)).map((s) => s.stepId)).toEqual(['call', 'answered', 'human']);
  });

  test('a speak command that times out answers 503, so Telnyx re-delivers and the retry speaks', async () => {
    const { call, executionId } = await dial('+15554440005', 'Quin');
    kit.fakes.telnyx.hangNext();
    const [first] = await send(call.callControlId, [['call.machine.detection.ended', { result: 'human' }]]);
    expect(first!.status).toBe(503);
    const retry = await fetch(`${kit.url}/webhooks/telnyx`, { method: 'POST', headers: { 'content-type': 'application/json', ...kit.fakes.telnyx.sign(first!.rawBody, kit.seconds()) }, body: first!.rawBody });
    expect(retry.status).toBe(200);
    expect(commands(call)).toEqual([['speak', `${executionId}:speak_script`, 'Hi Quin, this is Dana.']]);
  });
});

describe('voice orchestrator hand-off', () => {
  let kit: LiveKit;
  let orchestrator: Server;
  const received: unknown[] = [];

  beforeAll(async () => {
    orchestrator = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => orchestrator.listen(0, '127.0.0.1', resolve));
    const port = (orchestrator.address() as AddressInfo).port;
    kit = await startLiveKit({ env: { VOICE_ORCHESTRATOR_URL: `http://127.0.0.1:${port}/calls` } });
  });
  afterAll(async () => {
    await kit?.close();
    await new Promise<void>((resolve) => orchestrator.close(() => resolve()));
  });

  test('an answered human call goes to the orchestrator with the call and the lead, and no script is spoken', async () => {
    const leadId = await kit.addLead({ phone: '+15554440010', firstName: 'Rae', company: 'Acme' });
    await kit.enroll(await kit.addSequence(callSequence), leadId);
    await kit.drain();
    const call = [...kit.fakes.telnyx.calls.values()][0]!;
    const event = kit.stamp(kit.fakes.telnyx.callEvent('call.machine.detection.ended', call.callControlId, { result: 'human' }));
    const [delivery] = await kit.fakes.telnyx.emit(`${kit.url}/webhooks/telnyx`, [event], { timestamp: kit.seconds() });
    expect(delivery!.status).toBe(200);
    expect(call.commands).toEqual([]);
    expect(received).toEqual([
      expect.objectContaining({
        call_control_id: call.callControlId,
        execution: expect.objectContaining({ stepId: 'call', script: 'Hi Rae, this is Dana.' }),
        lead: expect.objectContaining({ id: leadId, firstName: 'Rae', company: 'Acme', phone: '+15554440010' }),
      }),
    ]);
  });
});
