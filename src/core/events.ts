/**
 * The engine's events: the catalogue of what can happen to a lead, and `InboundEvent`, the shape
 * every source of events hands the engine — provider webhooks (src/webhooks), the unsubscribe
 * page, the mock adapters. It lives in core because all of them, and the engine that matches
 * events to executions, enrollments and leads, must agree on it without importing each other.
 */
/** Every event the engine understands; providers' payloads are translated into these. */
export const EVENT_TYPES = [
  'email.delivered',
  'email.opened',
  'email.clicked',
  'email.replied',
  // A reply whose provider's SPF/DKIM verdicts contradict its From (docs/PROVIDERS.md, "Replies"):
  // recorded, but no default exit rule lists it, so a forged From stops nothing.
  'email.reply_unverified',
  'email.bounced',
  // An out-of-office or other automatic answer read from a mailbox (RFC 3834): not a reply. It
  // pauses the lead's running enrollments until the day it says its writer is back.
  'email.auto_replied',
  'email.unsubscribed',
  'email.spam_reported',
  'sms.delivered',
  'sms.failed',
  'sms.replied',
  'sms.opted_out',
  'sms.opted_in',
  'call.answered',
  'call.voicemail',
  'call.no_answer',
  'call.completed',
  'manual.outcome',
  // Meetings booked and cancelled in a scheduling tool (Cal.com, Calendly), matched by the
  // invitee's email: `exitOn: ["meeting.booked"]` ends a sequence without an operator.
  'meeting.booked',
  'meeting.cancelled',
] as const;
export type CatalogueEventType = (typeof EVENT_TYPES)[number];

/**
 * The underscore spelling of every catalogue event — its name with `_` for the dot
 * (`meeting_booked` for `meeting.booked`, `sms_opted_out` for `sms.opted_out`) — as the rules of a
 * sequence accept it (`exitOn`, a branch's `when.event`; docs/SEQUENCES.md, "Underscore spellings"). Each
 * names exactly one event (no catalogue name holds a `_` before its dot), and none is a name of
 * its own: the schema reads it as the dotted event, which is what the engine matches.
 */
export const EVENT_ALIASES: ReadonlyMap<string, CatalogueEventType> = new Map(EVENT_TYPES.map((type) => [type.replace('.', '_'), type]));

/** The catalogue event an underscore spelling stands for; any other name as it is. */
export function canonicalEventName(name: string): string {
  return EVENT_ALIASES.get(name) ?? name;
}

// Custom events (docs/INTEGRATIONS.md, "Custom events in"): other systems' facts about a lead
// (a demo booked, a trial started), posted to /api/events. Their names are open, so they are a
// prefix and a pattern rather than entries of the catalogue.
export const CUSTOM_EVENT_PREFIX = 'custom.';
/** `custom.` then 1–100 letters, digits, `_`, `-`, `.` or `:`, starting with a letter or digit. */
export const CUSTOM_EVENT_PATTERN = /^custom\.[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
export type CustomEventType = `custom.${string}`;
export const CUSTOM_EVENT_MESSAGE = 'must be "custom." then 1–100 letters, digits, "_", "-", "." or ":", e.g. "custom.demo_booked"';

export function isCustomEventType(type: string): type is CustomEventType {
  return CUSTOM_EVENT_PATTERN.test(type);
}

export type EventType = CatalogueEventType | CustomEventType;

/**
 * One event translated into the engine's vocabulary. Translators are pure: payload in, these out.
 * The engine matches them to an execution, an enrollment and a lead.
 */
export interface InboundEvent {
  type: EventType;
  /** Deduplication key: the provider's event id, or one derived from stable payload fields. */
  providerEventId: string;
  /** `touchpoint`: our own unsubscribe page; `mock`: outcomes the mock adapters report. */
  provider: 'sendgrid' | 'postmark' | 'telnyx' | 'touchpoint' | 'mock' | 'calcom' | 'calendly' | 'imap';
  occurredAt: Date;
  /** The provider's id of the message or call this event is about, when it names one. */
  providerMessageId?: string;
  /** Our execution id when the provider echoes it back (custom_args, Metadata, client_state). */
  executionId?: string;
  /** The lead's address when that is all we can match on (inbound replies, suppressions). */
  address?: { channel: 'email' | 'sms' | 'voice'; value: string };
  /**
   * Our number or address the event came through (the `to` of an inbound text), when the
   * provider names it: an opt-out belongs to the sender it was sent to.
   */
  sender?: string;
  /** Headers of an inbound email that point at the message it answers. */
  inReplyTo?: string[];
  /** Should the address be suppressed (hard bounce, spam report, unsubscribe, STOP)? */
  suppress?: boolean;
  /** Lifts a suppression (Telnyx START / UNSTOP). */
  unsuppress?: boolean;
  /**
   * The workspace whose own channel reported it (a connection's webhook, docs/PROVIDERS.md,
   * "Per-workspace connections", or a mailbox read over IMAP): only that workspace's leads and
   * messages may have it, and what would reach the whole sender account reaches that workspace only.
   */
  workspaceId?: string;
  /**
   * A temporary failure (a soft bounce): recorded on the timeline, but it fires no exit rule,
   * suppresses nothing and leaves the lead's status alone.
   */
  transient?: boolean;
  /** An auto-reply: pause the lead's running enrollments until then (src/db/autoReplyPauses.ts). */
  pauseUntil?: Date;
  data: Record<string, unknown>;
}
