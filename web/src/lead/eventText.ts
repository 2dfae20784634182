/**
 * How the timeline reads an event's details: a custom event's properties (posted by another
 * system, docs/INTEGRATIONS.md "Custom events in") and a meeting's title, time and reason, as
 * lines a person reads instead of the raw JSON.
 */
import { isCustomEventType } from '../../../src/core/events.ts';

const MEETING_TYPES = new Set(['meeting.booked', 'meeting.cancelled']);

/** What a timeline badge calls an event: "custom" for another system's, "meeting" for a booking, "outcome" for an operator's. */
export function eventFamily(type: string): 'custom' | 'meeting' | 'outcome' | null {
  if (type === 'manual.outcome') return 'outcome';
  if (isCustomEventType(type)) return 'custom';
  return MEETING_TYPES.has(type) ? 'meeting' : null;
}

/** A property's value in one line: text as is, anything else as compact JSON, cut at `max`. */
function show(value: unknown, max = 200): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The headline: "Outcome recorded: connected", "Custom event demo_booked", "Meeting booked: Intro call", else null (the summary stays). */
export function eventHeadline(type: string, details: Record<string, unknown>): string | null {
  if (type === 'manual.outcome') return `Outcome recorded: ${show(details.outcome ?? 'unknown').replace(/_/g, ' ')}`;
  const family = eventFamily(type);
  if (family === 'custom') return `Custom event ${type.slice('custom.'.length)}`;
  if (family === 'meeting') {
    const what = type === 'meeting.booked' ? (details.rescheduled || details.rescheduledFrom ? 'Meeting rescheduled' : 'Meeting booked') : 'Meeting cancelled';
    return typeof details.title === 'string' ? `${what}: ${details.title}` : what;
  }
  return null;
}

/** The lines under the headline: a custom event's properties, a meeting's time, invitee and reason. */
export function eventDetailLines(type: string, details: Record<string, unknown>, formatTime: (iso: string) => string): string[] {
  if (type === 'manual.outcome') {
    const lines: string[] = [];
    if (typeof details.note === 'string' && details.note) lines.push(`Note: ${show(details.note, 2000)}`);
    if (typeof details.actor === 'string') lines.push(`Recorded by ${details.actor}`);
    return lines;
  }
  const family = eventFamily(type);
  if (family === 'custom') {
    const properties = details.properties;
    if (!properties || typeof properties !== 'object' || Array.isArray(properties)) return [];
    return Object.entries(properties as Record<string, unknown>).map(([key, value]) => `${key}: ${show(value)}`);
  }
  if (family === 'meeting') {
    const lines: string[] = [];
    if (typeof details.startTime === 'string') {
      lines.push(`When: ${formatTime(details.startTime)}${typeof details.endTime === 'string' ? ` – ${formatTime(details.endTime)}` : ''}`);
    }
    if (typeof details.attendeeName === 'string') lines.push(`Invitee: ${details.attendeeName}`);
    if (typeof details.cancellationReason === 'string') lines.push(`Reason: ${details.cancellationReason}`);
    if (typeof details.canceledBy === 'string') lines.push(`Cancelled by: ${details.canceledBy}`);
    if (typeof details.source === 'string') lines.push(`From ${details.source === 'calcom' ? 'Cal.com' : details.source === 'calendly' ? 'Calendly' : details.source}`);
    return lines;
  }
  return [];
}
