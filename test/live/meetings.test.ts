/**
 * Meetings booked (docs/INTEGRATIONS.md): Cal.com and Calendly webhooks over real HTTP on the
 * embedded runtime. Signatures valid, tampered and stale; a booking by a lead's email lands on
 * its timeline and exits the sequence whose exitOn lists meeting.booked (reason meeting_booked);
 * a cancellation is recorded; an unknown email is an unmatched 200.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createToken } from '../../src/db/workspaces.ts';
import { calcomBooking, calendlyInvitee, CALCOM_SECRET, CALENDLY_KEY, signCalcom, signCalendly } from '../helpers/meetingSigners.ts';
import { OPEN, startLiveKit, type LiveKit } from './liveKit.ts';

let kit: LiveKit;
beforeAll(async () => {
  kit = await startLiveKit({ env: { CALCOM_WEBHOOK_SECRET: CALCOM_SECRET, CALENDLY_WEBHOOK_SIGNING_KEY: CALENDLY_KEY, WEBHOOK_AUTH_FAILURES_PER_MINUTE: '0' } });
});
afterAll(async () => kit?.close());

const post = async (url: string, raw: string, headers: Record<string, string>) => {
  const response = await fetch(`${kit.url}${url}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** A lead in a sequence that waits (so it stays live) and exits on a booked meeting. */
async function waitingLead(exitOn: string[]) {
  const email = `lead-${randomUUID().slice(0, 8)}@acme.test`;
  const leadId = await kit.addLead({ email, firstName: 'Ada' });
  const sequenceId = await kit.addSequence({ name: `meet ${email}`, ...OPEN, exitOn, steps: [{ id: 'pause', type: 'wait', duration: 'P3D' }, { id: 'done', type: 'end' }] });
  const enrollmentId = await kit.enroll(sequenceId, leadId);
  await kit.drain();
  return { email, leadId, enrollmentId };
}

describe('Cal.com', () => {
  test('signatures: valid → 200, tampered or another secret → 401, missing → 401', async () => {
    const raw = calcomBooking('BOOKING_CREATED', randomUUID(), 'nobody@nowhere.test');
    expect((await post('/webhooks/calcom', raw, signCalcom(raw))).status).toBe(200);
    expect((await post('/webhooks/calcom', `${raw} `, signCalcom(raw))).status).toBe(401);
    expect((await post('/webhooks/calcom', raw, signCalcom(raw, 'other'))).status).toBe(401);
    expect((await post('/webhooks/calcom', raw, {})).status).toBe(401);
  });

  test('a booking by a lead’s email exits its sequence (exitOn meeting.booked); a retry is a duplicate; cancelled is recorded', async () => {
    const { email, leadId, enrollmentId } = await waitingLead(['email.replied', 'meeting.booked']);
    const uid = randomUUID();
    const raw = calcomBooking('BOOKING_CREATED', uid, email.toUpperCase());
    expect(await post('/webhooks/calcom', raw, signCalcom(raw))).toMatchObject({ status: 200, body: { received: 1, recorded: 1 } });
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'exited', statusReason: 'meeting_booked' });
    expect(await post('/webhooks/calcom', raw, signCalcom(raw))).toMatchObject({ status: 200, body: { duplicate: 1 } });
    const cancel = calcomBooking('BOOKING_CANCELLED', uid, email);
    expect(await post('/webhooks/calcom', cancel, signCalcom(cancel))).toMatchObject({ status: 200, body: { recorded: 1 } });
    expect((await kit.events(leadId)).map((e) => `${e.type}/${e.provider}`)).toEqual(['meeting.booked/calcom', 'meeting.cancelled/calcom']);
  });

  test('exitOn as the issue spells it, ["meeting_booked"], through the API: kept as written, exits on a booking', async () => {
    const { token } = await createToken(kit.db, kit.workspaceId, 'admin', 'meetings');
    const api = (method: string, url: string, body?: unknown) =>
      fetch(`${kit.url}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const created = await api('POST', '/api/sequences', { name: 'Underscore exit', ...OPEN, exitOn: ['meeting_booked'], steps: [{ id: 'pause', type: 'wait', duration: 'P3D' }, { id: 'done', type: 'end' }] });
    expect(created.status).toBe(201);
    const sequence = (await created.json()) as { id: string; definition: { exitOn: string[] }; warnings: unknown[] };
    expect(sequence).toMatchObject({ definition: { exitOn: ['meeting_booked'] } });
    expect(JSON.stringify(sequence.warnings)).not.toContain('exitOn');
    expect((await api('PATCH', `/api/sequences/${sequence.id}`, { status: 'active' })).status).toBe(200);
    const email = `alias-${randomUUID().slice(0, 8)}@acme.test`;
    const leadId = await kit.addLead({ email, firstName: 'Cy' });
    const enrollmentId = await kit.enroll(sequence.id, leadId);
    await kit.drain();
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'active', currentStepId: 'pause' });
    const raw = calcomBooking('BOOKING_CREATED', randomUUID(), email);
    expect(await post('/webhooks/calcom', raw, signCalcom(raw))).toMatchObject({ status: 200, body: { recorded: 1 } });
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'exited', statusReason: 'meeting_booked' });
  });

  test('a sequence whose exitOn does not list it keeps running; an unknown email is an unmatched 200', async () => {
    const { email, enrollmentId } = await waitingLead(['email.replied']);
    const raw = calcomBooking('BOOKING_CREATED', randomUUID(), email);
    expect(await post('/webhooks/calcom', raw, signCalcom(raw))).toMatchObject({ status: 200, body: { recorded: 1 } });
    expect((await kit.enrollment(enrollmentId)).status).not.toBe('exited');
    const stranger = calcomBooking('BOOKING_CREATED', randomUUID(), 'stranger@elsewhere.test');
    expect(await post('/webhooks/calcom', stranger, signCalcom(stranger))).toMatchObject({ status: 200, body: { received: 1, unmatched: 1 } });
  });
});

test('a branch waiting for meeting.booked takes its then when the booking arrives; a paused enrollment exits too', async () => {
  const email = `branch-${randomUUID().slice(0, 8)}@acme.test`;
  const leadId = await kit.addLead({ email, firstName: 'Bo' });
  const branching = await kit.addSequence({
    name: `branch ${email}`,
    ...OPEN,
    exitOn: ['email.replied'],
    steps: [
      { id: 'meeting', type: 'branch', when: { event: 'meeting.booked' }, within: 'P2D', then: 'booked', else: 'nudge' },
      { id: 'nudge', type: 'wait', duration: 'P1D', next: 'done' },
      { id: 'booked', type: 'wait', duration: 'P1D' },
      { id: 'done', type: 'end' },
    ],
  });
  const exiting = await kit.addSequence({ name: `exit ${email}`, ...OPEN, exitOn: ['meeting.booked'], steps: [{ id: 'pause', type: 'wait', duration: 'P3D' }] });
  const waiting = await kit.enroll(branching, leadId);
  const paused = await kit.enroll(exiting, leadId);
  await kit.drain();
  expect(await kit.enrollment(waiting)).toMatchObject({ status: 'waiting', currentStepId: 'meeting' });
  expect(await kit.runtime.engine.act({ enrollmentId: paused, action: 'pause', actor: 'test' })).toMatchObject({ ok: true });
  // Stamped after the enrollment began: a branch sees only what happened since it enrolled.
  const raw = calcomBooking('BOOKING_CREATED', randomUUID(), email, kit.clock.now().toISOString());
  expect(await post('/webhooks/calcom', raw, signCalcom(raw))).toMatchObject({ status: 200, body: { recorded: 1 } });
  await kit.drain();
  expect(await kit.enrollment(waiting)).toMatchObject({ currentStepId: 'booked' });
  expect(await kit.enrollment(paused)).toMatchObject({ status: 'exited', statusReason: 'meeting_booked' });
});

describe('Calendly', () => {
  const invitee = () => `https://api.calendly.com/scheduled_events/EV1/invitees/${randomUUID()}`;

  test('signatures: valid → 200; tampered, another key, stale or future (181 s) → 401', async () => {
    const raw = calendlyInvitee('invitee.created', invitee(), 'nobody@nowhere.test');
    const now = kit.seconds();
    expect((await post('/webhooks/calendly', raw, signCalendly(raw, now))).status).toBe(200);
    expect((await post('/webhooks/calendly', `${raw} `, signCalendly(raw, now))).status).toBe(401);
    expect((await post('/webhooks/calendly', raw, signCalendly(raw, now, 'other'))).status).toBe(401);
    expect((await post('/webhooks/calendly', raw, signCalendly(raw, now - 181))).status).toBe(401);
    expect((await post('/webhooks/calendly', raw, signCalendly(raw, now + 181))).status).toBe(401);
    expect((await post('/webhooks/calendly', raw, {})).status).toBe(401);
  });

  test('a booking exits the sequence; a cancellation is recorded; the cancel half of a reschedule is not', async () => {
    const { email, leadId, enrollmentId } = await waitingLead(['meeting.booked']);
    const uri = invitee();
    const booked = calendlyInvitee('invitee.created', uri, email);
    expect(await post('/webhooks/calendly', booked, signCalendly(booked, kit.seconds()))).toMatchObject({ status: 200, body: { recorded: 1 } });
    expect(await kit.enrollment(enrollmentId)).toMatchObject({ status: 'exited', statusReason: 'meeting_booked' });
    const moved = calendlyInvitee('invitee.canceled', uri, email, { rescheduled: true });
    expect(await post('/webhooks/calendly', moved, signCalendly(moved, kit.seconds()))).toMatchObject({ status: 200, body: { received: 0 } });
    const cancelled = calendlyInvitee('invitee.canceled', invitee(), email, { cancellation: { reason: 'conflict', canceler_type: 'invitee' } });
    expect(await post('/webhooks/calendly', cancelled, signCalendly(cancelled, kit.seconds()))).toMatchObject({ status: 200, body: { recorded: 1 } });
    expect((await kit.events(leadId)).map((e) => e.type)).toEqual(['meeting.booked', 'meeting.cancelled']);
  });

  test('unconfigured key → 503 naming the setting', async () => {
    const bare = await startLiveKit();
    try {
      const raw = calendlyInvitee('invitee.created', invitee(), 'a@b.test');
      const response = await fetch(`${bare.url}/webhooks/calendly`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signCalendly(raw, bare.seconds()) } });
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('CALENDLY_WEBHOOK_SIGNING_KEY');
    } finally {
      await bare.close();
    }
  });
});
