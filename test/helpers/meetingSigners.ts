/** Sign bodies the way Cal.com and Calendly do, for tests that post to the meeting webhooks. */
import { createHmac } from 'node:crypto';

export const CALCOM_SECRET = 'calcom-test-secret';
export const CALENDLY_KEY = 'calendly-test-signing-key';

export function signCalcom(raw: string, secret = CALCOM_SECRET): Record<string, string> {
  return { 'x-cal-signature-256': createHmac('sha256', secret).update(raw).digest('hex') };
}

export function signCalendly(raw: string, seconds: number, key = CALENDLY_KEY): Record<string, string> {
  const v1 = createHmac('sha256', key).update(`${seconds}.${raw}`).digest('hex');
  return { 'calendly-webhook-signature': `t=${seconds},v1=${v1}` };
}

export function calcomBooking(trigger: string, uid: string, attendee: string, createdAt = '2026-03-04T15:00:00.000Z'): string {
  const organizer = 'rep@us.test';
  return JSON.stringify({
    triggerEvent: trigger,
    createdAt,
    payload: {
      uid,
      title: 'Intro call',
      startTime: '2026-03-06T15:00:00.000Z',
      endTime: '2026-03-06T15:30:00.000Z',
      organizer: { email: organizer, name: 'Rep' },
      attendees: [{ email: attendee, name: 'Lead', timeZone: 'America/New_York' }],
    },
  });
}

export function calendlyInvitee(event: 'invitee.created' | 'invitee.canceled', invitee: string, email: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event,
    created_at: '2026-03-04T15:00:00.000000Z',
    payload: {
      uri: invitee,
      email,
      name: 'Lead',
      rescheduled: false,
      scheduled_event: { uri: 'https://api.calendly.com/scheduled_events/EV1', name: 'Intro call', start_time: '2026-03-06T15:00:00.000000Z', end_time: '2026-03-06T15:30:00.000000Z' },
      ...extra,
    },
  });
}
