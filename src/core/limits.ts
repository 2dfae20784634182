/**
 * The per-lead frequency cap (docs/SEQUENCES.md, "Frequency cap"): at most so many sends per
 * channel per local calendar day to one lead, across every sequence of its workspace. Pure: the
 * engine loads today's count; these functions say where the day begins and ends and whether a
 * send fits.
 */
import type { Channel } from './definition.ts';
import { instantOf, localDayOf } from './windows.ts';

/** Sends per channel per lead per local day; 0 means no cap on that channel. */
export type FrequencyCaps = Record<Channel, number>;

/** Defaults when neither the environment nor the workspace says otherwise (docs/SEQUENCES.md). */
export const DEFAULT_FREQUENCY_CAPS: FrequencyCaps = { email: 3, sms: 2, voice: 2 };

/** What the decision needs: the caps, and the lead's sends of today so far (this batch's too). */
export interface LeadSendsToday {
  caps: FrequencyCaps;
  /** Sends per channel since `dayStart`, counted before `now`, including ones planned this round. */
  sent: Partial<Record<Channel, number>>;
  dayStart: Date;
  dayEnd: Date;
}

/**
 * The last day computed per zone: every lead of a round (and of the rounds after it, until
 * midnight) in one zone shares its day, and computing it is calendar arithmetic the engine
 * would otherwise repeat for every send. Bounded: when full it starts over.
 */
const daysByZone = new Map<string, { start: Date; end: Date }>();
const MAX_CACHED_ZONES = 1_000;

/** The local calendar day around `at` in `zone`: [start, end), 23 or 25 hours across DST. */
export function localDayBounds(at: Date, zone: string): { start: Date; end: Date } {
  const cached = daysByZone.get(zone);
  if (cached && at.getTime() >= cached.start.getTime() && at.getTime() < cached.end.getTime()) return cached;
  const day = localDayOf(at.getTime(), zone);
  const bounds = { start: new Date(instantOf(day, zone)), end: new Date(instantOf(day.plus({ days: 1 }), zone)) };
  if (daysByZone.size >= MAX_CACHED_ZONES) daysByZone.clear();
  daysByZone.set(zone, bounds);
  return bounds;
}

/** Workspace overrides over the defaults; a missing or null channel keeps the default. */
export function effectiveCaps(defaults: FrequencyCaps, overrides: Partial<Record<Channel, number | null>> | null | undefined): FrequencyCaps {
  const caps = { ...defaults };
  for (const channel of ['email', 'sms', 'voice'] as const) {
    const value = overrides?.[channel];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) caps[channel] = value;
  }
  return caps;
}

/** When the send must wait for tomorrow: the cap is reached for this channel today; else undefined. */
export function capReached(sends: LeadSendsToday | undefined, channel: Channel, now: Date): Date | undefined {
  if (!sends) return undefined;
  const cap = sends.caps[channel];
  if (cap <= 0) return undefined;
  // A count loaded for a day that has since ended says nothing about the new one.
  if (now.getTime() < sends.dayStart.getTime() || now.getTime() >= sends.dayEnd.getTime()) return undefined;
  return (sends.sent[channel] ?? 0) >= cap ? sends.dayEnd : undefined;
}

const NOUNS: Record<Channel, [one: string, many: string]> = { email: ['email', 'emails'], sms: ['text', 'texts'], voice: ['call', 'calls'] };

/** The sentence a deferral leaves on the lead's timeline. */
export function capReason(channel: Channel, sends: LeadSendsToday, until: Date): string {
  const sent = sends.sent[channel] ?? 0;
  const cap = sends.caps[channel];
  const noun = (n: number) => NOUNS[channel][n === 1 ? 0 : 1];
  return `frequency_cap: ${sent} ${noun(sent)} already sent to this lead today (at most ${cap} ${noun(cap)} per day); deferred to ${until.toISOString()}`;
}
