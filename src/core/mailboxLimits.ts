/**
 * A mailbox's daily limit (docs/MAILBOXES.md, "Limits"): how many emails it may send on one
 * local day of its zone (with the warm-up ramp), which of a sequence's mailboxes sends next
 * (the enrollment's own once it has one; else the one with the fewest sends today), and until
 * when a send waits when none may send now. Pure: the database counts, these rules judge.
 */
import { DateTime } from 'luxon';
import { localDayBounds } from './limits.ts';
import { localDate } from './time.ts';

export interface Warmup {
  /** The limit of the first day. */
  startLimit: number;
  /** Days the ramp lasts; from then on the limit is `dailyLimit`. */
  days: number;
}

/** The local day `at` falls on in `zone`: its date (`YYYY-MM-DD`) and its bounds. */
export function mailboxDay(at: Date, zone: string): { day: string; start: Date; end: Date } {
  const { start, end } = localDayBounds(at, zone);
  return { day: localDate(at, zone), start, end };
}

/**
 * The limit of `day` (a local date): `dailyLimit`, or on day n of a warm-up that began on
 * `startedOn`, a straight ramp from `startLimit` (day 0) towards `dailyLimit` (day `days`).
 */
export function limitOn(dailyLimit: number, day: string, warmup?: Warmup | null, startedOn?: string | null): number {
  if (!warmup || !startedOn) return dailyLimit;
  const n = Math.round(DateTime.fromISO(day, { zone: 'utc' }).diff(DateTime.fromISO(startedOn, { zone: 'utc' }), 'days').days);
  if (n >= warmup.days) return dailyLimit;
  const start = Math.min(warmup.startLimit, dailyLimit);
  return Math.min(dailyLimit, Math.max(start, Math.floor(start + ((dailyLimit - start) * Math.max(0, n)) / warmup.days)));
}

/** One mailbox as the choice sees it, on the local day the send would fall on. */
export interface MailboxStanding {
  id: string;
  name: string;
  limit: number;
  sentToday: number;
  /** When its local day ends: a mailbox at its limit may send again from then. */
  dayEnd: Date;
  lastSendAt: Date | null;
  minGapSeconds: number;
}

export type MailboxChoice =
  | { kind: 'send'; mailboxId: string }
  /** None may send now. `limit`: every candidate is at its daily limit (the reason goes on the timeline). */
  | { kind: 'wait'; until: Date; cause: 'limit' | 'gap'; reason: string; mailboxId: string };

/**
 * Which mailbox sends now, among `candidates` (the sequence's, in its order; or only the
 * enrollment's own). The one with the fewest sends today among those with room whose gap has
 * passed; ties go to the earlier in the list. None: wait for the first gap to pass, else for
 * the first day to end.
 */
export function chooseMailbox(candidates: MailboxStanding[], now: Date): MailboxChoice {
  const withRoom = candidates.filter((m) => m.sentToday < m.limit);
  const ready = withRoom.filter((m) => gapEnd(m).getTime() <= now.getTime());
  if (ready.length > 0) {
    const best = ready.reduce((a, b) => (b.sentToday < a.sentToday ? b : a));
    return { kind: 'send', mailboxId: best.id };
  }
  if (withRoom.length > 0) {
    const next = withRoom.reduce((a, b) => (gapEnd(b).getTime() < gapEnd(a).getTime() ? b : a));
    return { kind: 'wait', until: gapEnd(next), mailboxId: next.id, cause: 'gap', reason: 'mailbox_gap: waiting for the minimum gap between two sends of the mailbox' };
  }
  if (candidates.length === 0) throw new Error('chooseMailbox needs at least one candidate');
  const first = candidates.reduce((a, b) => (b.dayEnd.getTime() < a.dayEnd.getTime() ? b : a));
  const names = candidates.length === 1 ? `mailbox ${first.name} has sent ${first.sentToday} of its ${first.limit} emails today` : `all ${candidates.length} mailboxes have reached their daily limits`;
  return { kind: 'wait', until: first.dayEnd, mailboxId: first.id, cause: 'limit', reason: `mailbox_limit: ${names}` };
}

function gapEnd(m: MailboxStanding): Date {
  return m.lastSendAt ? new Date(m.lastSendAt.getTime() + m.minGapSeconds * 1000) : new Date(0);
}
