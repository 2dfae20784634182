import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { translateCalcomEvent } from './calcom.ts';
import { translateCalendlyEvent } from './calendly.ts';
import { verifyCalcomSignature, verifyCalendlySignature } from './verify.ts';

// Signed as the providers sign (test/helpers/meetingSigners.ts has the same for the HTTP tests; src/ may not import test/).
const CALCOM_SECRET = 'calcom-test-secret';
const CALENDLY_KEY = 'calendly-test-signing-key';
const signCalcom = (raw: string) => ({ 'x-cal-signature-256': createHmac('sha256', CALCOM_SECRET).update(raw).digest('hex') });
const signCalendly = (raw: string, seconds: number, key = CALENDLY_KEY) => ({
  'calendly-webhook-signature': `t=${seconds},v1=${createHmac('sha256', key).update(`${seconds}.${raw}`).digest('hex')}`,
});
const calcomBooking = (trigger: string, uid: string, attendee: string) =>
  JSON.stringify({
    triggerEvent: trigger,
    createdAt: '2026-03-04T15:00:00.000Z',
    payload: { uid, title: 'Intro call', organizer: { email: 'rep@us.test' }, attendees: [{ email: attendee, name: 'Lead' }] },
  });
const calendlyInvitee = (event: string, uri: string, email: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ event, created_at: '2026-03-04T15:00:00Z', payload: { uri, email, rescheduled: false, scheduled_event: { name: 'Intro call' }, ...extra } });

const NOW = new Date('2026-03-04T15:00:00Z');
const SECONDS = Math.floor(NOW.getTime() / 1000);

describe('verifyCalcomSignature', () => {
  const raw = calcomBooking('BOOKING_CREATED', 'b1', 'lead@acme.test');
  const signature = signCalcom(raw)['x-cal-signature-256'];
  it('accepts the body it signed, refuses a tampered one or another secret', () => {
    expect(verifyCalcomSignature({ secret: CALCOM_SECRET, signature, rawBody: Buffer.from(raw) })).toEqual({ ok: true });
    expect(verifyCalcomSignature({ secret: CALCOM_SECRET, signature, rawBody: Buffer.from(`${raw} `) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyCalcomSignature({ secret: 'other', signature, rawBody: Buffer.from(raw) })).toEqual({ ok: false, reason: 'bad_signature' });
  });
  it('is total on malformed input', () => {
    expect(verifyCalcomSignature({ secret: CALCOM_SECRET, signature: undefined, rawBody: Buffer.from(raw) }).ok).toBe(false);
    expect(verifyCalcomSignature({ secret: CALCOM_SECRET, signature: 'zz', rawBody: Buffer.from(raw) }).ok).toBe(false);
    expect(verifyCalcomSignature({ secret: '', signature, rawBody: Buffer.from(raw) })).toEqual({ ok: false, reason: 'bad_key' });
    expect(verifyCalcomSignature(undefined as never).ok).toBe(false);
  });
});

describe('verifyCalendlySignature', () => {
  const raw = calendlyInvitee('invitee.created', 'https://api.calendly.com/scheduled_events/EV1/invitees/I1', 'lead@acme.test');
  const header = (seconds: number, key = CALENDLY_KEY) => signCalendly(raw, seconds, key)['calendly-webhook-signature'];
  const check = (h: string | undefined, body = raw) => verifyCalendlySignature({ signingKey: CALENDLY_KEY, header: h, rawBody: Buffer.from(body), now: NOW });
  it('accepts a fresh signature; refuses tampered, another key, stale or future beyond 180 s', () => {
    expect(check(header(SECONDS))).toEqual({ ok: true });
    expect(check(header(SECONDS - 179))).toEqual({ ok: true });
    expect(check(header(SECONDS), `${raw} `)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check(header(SECONDS, 'other'))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check(header(SECONDS - 181))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check(header(SECONDS + 181))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });
  it('judges the header alone before the body (front door)', () => {
    expect(verifyCalendlySignature({ signingKey: CALENDLY_KEY, header: header(SECONDS), now: NOW })).toEqual({ ok: true });
    expect(check(undefined)).toEqual({ ok: false, reason: 'missing_headers' });
    expect(check('t=1,v2=x')).toEqual({ ok: false, reason: 'missing_headers' });
    expect(check(`t=${SECONDS},v1=nothex`)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('translateCalcomEvent', () => {
  it('a booking: one meeting.booked per attendee, never the organizer', () => {
    const body = JSON.parse(calcomBooking('BOOKING_CREATED', 'b1', 'Lead@Acme.test'));
    body.payload.attendees.push({ email: 'rep@us.test' });
    const result = translateCalcomEvent(body, { now: NOW });
    expect(result).toMatchObject({ ok: true, events: [{ type: 'meeting.booked', provider: 'calcom', address: { channel: 'email', value: 'lead@acme.test' } }] });
    if (result.ok) expect(result.events).toHaveLength(1);
  });
  it('cancelled and rescheduled; other triggers and junk yield nothing', () => {
    expect(translateCalcomEvent(JSON.parse(calcomBooking('BOOKING_CANCELLED', 'b1', 'a@b.test')))).toMatchObject({ ok: true, events: [{ type: 'meeting.cancelled' }] });
    expect(translateCalcomEvent(JSON.parse(calcomBooking('BOOKING_RESCHEDULED', 'b2', 'a@b.test')))).toMatchObject({ ok: true, events: [{ type: 'meeting.booked', data: { rescheduled: true } }] });
    expect(translateCalcomEvent({ triggerEvent: 'MEETING_ENDED', payload: {} })).toEqual({ ok: true, events: [] });
    expect(translateCalcomEvent({ triggerEvent: 'BOOKING_CREATED', payload: { attendees: 'x' } })).toEqual({ ok: true, events: [] });
    expect(translateCalcomEvent([1])).toMatchObject({ ok: false });
  });
});

describe('translateCalendlyEvent', () => {
  const invitee = 'https://api.calendly.com/scheduled_events/EV1/invitees/I1';
  it('invitee.created → meeting.booked; canceled → meeting.cancelled, but not the cancel half of a reschedule', () => {
    expect(translateCalendlyEvent(JSON.parse(calendlyInvitee('invitee.created', invitee, 'Lead@acme.test')))).toMatchObject({
      ok: true,
      events: [{ type: 'meeting.booked', provider: 'calendly', address: { value: 'lead@acme.test' }, data: { title: 'Intro call' } }],
    });
    expect(translateCalendlyEvent(JSON.parse(calendlyInvitee('invitee.canceled', invitee, 'lead@acme.test', { cancellation: { reason: 'busy' } })))).toMatchObject({
      ok: true,
      events: [{ type: 'meeting.cancelled', data: { cancellationReason: 'busy' } }],
    });
    expect(translateCalendlyEvent(JSON.parse(calendlyInvitee('invitee.canceled', invitee, 'lead@acme.test', { rescheduled: true })))).toEqual({ ok: true, events: [] });
    expect(translateCalendlyEvent({ event: 'routing_form_submission.created', payload: {} })).toEqual({ ok: true, events: [] });
    expect(translateCalendlyEvent('x')).toMatchObject({ ok: false });
  });
});
