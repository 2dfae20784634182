/**
 * A lead's lifecycle (docs/API.md, "Lead status"): where the lead stands, driven by what
 * happened to it, never typed in. Statuses are ranked; an event moves a lead up to the status
 * it implies and never down, so a late delivery report cannot undo a reply and nothing undoes
 * a conversion. The one way down is an opt-in (START), which lifts an opt-out: the status is
 * then recomputed from the history (`src/db/functions/lead_status_from_history.sql`).
 */
import { isCustomEventType, type EventType } from './events.ts';

/** Lowest to highest: a status is replaced only by a higher one. */
export const LEAD_STATUSES = ['new', 'contacted', 'replied', 'bounced', 'opted_out', 'converted'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export function leadStatusRank(status: string): number {
  return LEAD_STATUSES.indexOf(status as LeadStatus);
}

/** The status an event implies for its lead; undefined when it says nothing about the lifecycle. */
export function leadStatusForEvent(type: EventType): LeadStatus | undefined {
  // Another system's facts (custom events) say nothing about our outreach's lifecycle.
  if (isCustomEventType(type)) return undefined;
  switch (type) {
    case 'email.replied':
    case 'sms.replied':
      return 'replied';
    case 'email.bounced':
      return 'bounced';
    case 'email.unsubscribed':
    case 'email.spam_reported':
    case 'sms.opted_out':
      return 'opted_out';
    case 'email.delivered':
    case 'email.opened':
    case 'email.clicked':
    case 'sms.delivered':
    case 'call.answered':
    case 'call.voicemail':
    case 'call.no_answer':
    case 'call.completed':
    // An out-of-office note proves the email arrived; it says nothing of the lead's interest.
    case 'email.auto_replied':
      return 'contacted';
    case 'sms.failed':
    case 'sms.opted_in':
    case 'manual.outcome':
    // A reply whose sender the provider's SPF/DKIM verdicts contradict may be forged: it moves nothing.
    case 'email.reply_unverified':
    // A meeting is on the timeline and in exit rules; the lifecycle's ranks have no step for it yet.
    case 'meeting.booked':
    case 'meeting.cancelled':
      return undefined;
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

/** The suppression reasons (event types) that are the lead's own choice, not a dead address. */
export const OPT_OUT_REASONS = ['email.unsubscribed', 'email.spam_reported', 'sms.opted_out'] as const;
