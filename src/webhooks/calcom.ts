/**
 * Cal.com booking webhooks → `meeting.booked` / `meeting.cancelled` (docs/INTEGRATIONS.md,
 * "Meetings booked"). Pure. The body is `{ triggerEvent, createdAt, payload: { uid, startTime,
 * endTime, title, organizer, attendees: [{ email, name, timeZone }] } }`; each attendee is a
 * person who booked, matched to a lead by email. The organizer is one of us, never a lead.
 */
import type { EventType, InboundEvent } from '../core/events.ts';
import { compact, fallbackNow, isRecord, str, validDate, type TranslateOptions, type TranslateResult } from './parse.ts';

/** Cal.com triggers we act on; every other trigger (MEETING_ENDED, FORM_SUBMITTED, PING…) is acknowledged and ignored. */
const TRIGGERS: Record<string, EventType> = {
  BOOKING_CREATED: 'meeting.booked',
  // A reschedule is a booking at a new time (Cal.com gives it a new uid).
  BOOKING_RESCHEDULED: 'meeting.booked',
  BOOKING_CANCELLED: 'meeting.cancelled',
};

/** At most this many attendees become events: a webinar with thousands is not a sales meeting. */
const MAX_ATTENDEES = 50;

function time(value: unknown): Date | undefined {
  const text = str(value);
  return text ? validDate(new Date(text)) : undefined;
}

export function translateCalcomEvent(body: unknown, options?: TranslateOptions): TranslateResult {
  if (!isRecord(body)) return { ok: false, error: 'The body is not a JSON object.' };
  const trigger = str(body.triggerEvent);
  const type = trigger ? TRIGGERS[trigger] : undefined;
  const payload = body.payload;
  if (!type || !isRecord(payload)) return { ok: true, events: [] };
  const uid = str(payload.uid) ?? (typeof payload.bookingId === 'number' ? String(payload.bookingId) : undefined);
  if (!uid) return { ok: true, events: [] };
  const organizer = isRecord(payload.organizer) ? str(payload.organizer.email)?.toLowerCase() : undefined;
  const attendees = Array.isArray(payload.attendees) ? payload.attendees.slice(0, MAX_ATTENDEES) : [];
  const occurredAt = time(body.createdAt) ?? fallbackNow(options);
  const data = compact({
    source: 'calcom',
    bookingUid: uid,
    title: str(payload.title),
    startTime: time(payload.startTime)?.toISOString(),
    endTime: time(payload.endTime)?.toISOString(),
    rescheduled: trigger === 'BOOKING_RESCHEDULED' ? true : undefined,
    cancellationReason: type === 'meeting.cancelled' ? str(payload.cancellationReason) : undefined,
    organizerEmail: organizer,
  });
  const events: InboundEvent[] = [];
  const seen = new Set<string>();
  for (const attendee of attendees) {
    const email = isRecord(attendee) ? str(attendee.email)?.toLowerCase() : undefined;
    if (!email || email === organizer || seen.has(email)) continue;
    seen.add(email);
    events.push({
      type,
      provider: 'calcom',
      // Cal.com retries a delivery with the same body: booking, trigger and attendee identify it.
      providerEventId: `calcom:${trigger}:${uid}:${email}`,
      occurredAt,
      address: { channel: 'email', value: email },
      data: compact({ ...data, attendeeName: isRecord(attendee) ? str(attendee.name) : undefined }),
    });
  }
  return { ok: true, events };
}
