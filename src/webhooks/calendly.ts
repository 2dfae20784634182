/**
 * Calendly webhooks → `meeting.booked` / `meeting.cancelled` (docs/INTEGRATIONS.md, "Meetings
 * booked"). Pure. The body is `{ event: "invitee.created" | "invitee.canceled", created_at,
 * payload: { uri, email, name, rescheduled, scheduled_event: { uri, name, start_time, end_time },
 * cancellation } }`: one invitee per delivery, matched to a lead by email.
 */
import type { EventType, InboundEvent } from '../core/events.ts';
import { compact, fallbackNow, isRecord, str, validDate, type TranslateOptions, type TranslateResult } from './parse.ts';

const EVENTS: Record<string, EventType> = {
  'invitee.created': 'meeting.booked',
  'invitee.canceled': 'meeting.cancelled',
};

function time(value: unknown): Date | undefined {
  const text = str(value);
  return text ? validDate(new Date(text)) : undefined;
}

export function translateCalendlyEvent(body: unknown, options?: TranslateOptions): TranslateResult {
  if (!isRecord(body)) return { ok: false, error: 'The body is not a JSON object.' };
  const name = str(body.event);
  const type = name ? EVENTS[name] : undefined;
  const payload = body.payload;
  if (!type || !isRecord(payload)) return { ok: true, events: [] };
  const email = str(payload.email)?.toLowerCase();
  const invitee = str(payload.uri);
  if (!email || !invitee) return { ok: true, events: [] };
  // A reschedule cancels the old invitee (rescheduled: true) and creates a new one: the meeting
  // still stands, so the cancellation half is no cancellation.
  if (type === 'meeting.cancelled' && payload.rescheduled === true) return { ok: true, events: [] };
  const scheduled = isRecord(payload.scheduled_event) ? payload.scheduled_event : {};
  const cancellation = isRecord(payload.cancellation) ? payload.cancellation : {};
  const event: InboundEvent = {
    type,
    provider: 'calendly',
    // The invitee URI is unique per booking, and each invitee is created and canceled at most once.
    providerEventId: `calendly:${name}:${invitee}`,
    occurredAt: time(body.created_at) ?? fallbackNow(options),
    address: { channel: 'email', value: email },
    data: compact({
      source: 'calendly',
      inviteeUri: invitee,
      attendeeName: str(payload.name),
      eventUri: str(scheduled.uri) ?? str(payload.event),
      title: str(scheduled.name),
      startTime: time(scheduled.start_time)?.toISOString(),
      endTime: time(scheduled.end_time)?.toISOString(),
      rescheduledFrom: str(payload.old_invitee),
      cancellationReason: type === 'meeting.cancelled' ? str(cancellation.reason) : undefined,
      canceledBy: type === 'meeting.cancelled' ? str(cancellation.canceler_type) : undefined,
    }),
  };
  return { ok: true, events: [event] };
}
