/**
 * Send windows (DESIGN.md, "Time"): when a step may run, given the sequence's schedule and
 * quiet hours, in one IANA zone. Pure: every function takes the instant it reasons about.
 *
 * Terminology:
 * - wall clock: a local date and time without a zone, carried as a luxon DateTime in UTC so
 *   that luxon does the calendar arithmetic and no offset is ever applied by hand.
 * - opening day: the local day a window opens on; the weekday and holiday checks apply to it,
 *   even when the window runs past midnight into the next day.
 * - window: the schedule's daily range as a real-time interval [start, end) on one opening day.
 * - quiet period: the quiet hours' daily range as a real-time interval, on every day.
 * - opening: an instant inside a window and, for the channels quiet hours cover, outside every
 *   quiet period.
 */
import { DateTime, IANAZone } from 'luxon';
import { WEEKDAYS, type Channel, type QuietHours, type Schedule, type Weekday } from './definition.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const MINUTES_PER_DAY = 1440;

/** How far ahead an opening or a business day is searched before giving up (~3 years). */
export const SEARCH_HORIZON_DAYS = 3 * 366;

export interface WindowOptions {
  zone: string;
  schedule: Schedule;
  /** Absent: no quiet hours apply (the parsed definition always carries its defaults). */
  quietHours?: QuietHours;
  /** Quiet hours apply only when this is one of `quietHours.channels`. */
  channel?: Channel | 'task';
}

/** The schedule and quiet hours leave no opening within the search horizon. */
export class NoOpeningError extends Error {
  override name = 'NoOpeningError';
}

interface Interval {
  start: number;
  end: number;
}

/** A local daily range in minutes from the opening day's midnight; `end` may pass 1440. */
interface DailyRange {
  start: number;
  end: number;
}

/** Checking a zone builds an `Intl.DateTimeFormat`, far slower than the math, so keep them. */
const knownZones = new Map<string, IANAZone>();

export function zoneOf(zone: string): IANAZone {
  let tz = knownZones.get(zone);
  if (tz === undefined) {
    if (!IANAZone.isValidZone(zone)) throw new RangeError(`unknown IANA time zone "${zone}"`);
    tz = IANAZone.create(zone);
    knownZones.set(zone, tz);
  }
  return tz;
}

/** `HH:MM` as minutes since midnight; `24:00` is 1440. */
export function minutesOf(localTime: string): number {
  const [hours, minutes] = localTime.split(':').map(Number);
  if (hours === undefined || minutes === undefined || Number.isNaN(hours + minutes)) {
    throw new RangeError(`"${localTime}" is not a local time "HH:MM"`);
  }
  return hours * 60 + minutes;
}

export function dailyRange(start: string, end: string): DailyRange {
  const from = minutesOf(start);
  const to = minutesOf(end);
  // Equal ends (00:00 and 24:00 are both midnight) cannot mean an empty range, nobody would
  // configure that, so they mean the whole day.
  if (from % MINUTES_PER_DAY === to % MINUTES_PER_DAY) return { start: 0, end: MINUTES_PER_DAY };
  return { start: from, end: to > from ? to : to + MINUTES_PER_DAY };
}

export function wallClockOf(instant: number, zone: string): DateTime {
  return DateTime.fromMillis(instant, { zone: zoneOf(zone) }).setZone('UTC', { keepLocalTime: true });
}

/**
 * The local calendar day of an instant, as a wall clock at midnight. Every decision asks this
 * for "now", so the last day answered per zone is kept with the instants it spans (23 or 25
 * hours across a DST change): an instant inside that span has the same day, exactly.
 */
export function localDayOf(instant: number, zone: string): DateTime {
  const known = lastDayByZone.get(zone);
  if (known && known.start <= instant && instant < known.end) return known.day;
  const day = wallClockOf(instant, zone).startOf('day');
  if (lastDayByZone.size >= 10_000) lastDayByZone.clear();
  lastDayByZone.set(zone, { day, start: instantOf(day, zone), end: instantOf(day.plus({ days: 1 }), zone) });
  return day;
}

const lastDayByZone = new Map<string, { day: DateTime; start: number; end: number }>();

export function weekdayOf(day: DateTime): Weekday {
  return WEEKDAYS[day.weekday - 1] as Weekday;
}

/**
 * The instant a wall clock denotes in `zone`. An ambiguous time (fall-back) takes the earlier
 * instant; a time in a spring-forward gap takes the first instant after the gap. luxon's own
 * `fromObject` picks between ambiguous instants by the offset in force *today*, which would
 * make results depend on the real clock, so the two candidates are checked here explicitly.
 */
export function instantOf(wallClock: DateTime, zone: string): number {
  const tz = zoneOf(zone);
  const asIfUtc = wallClock.toMillis();
  const candidates = [tz.offset(asIfUtc - DAY), tz.offset(asIfUtc + DAY)].map(
    (offset) => asIfUtc - offset * MINUTE,
  );
  const exact = candidates.filter((instant) => instant + tz.offset(instant) * MINUTE === asIfUtc);
  if (exact.length > 0) return Math.min(...exact);
  // In a gap the transition lies between the two candidates; find its first millisecond.
  let before = Math.min(...candidates);
  let after = Math.max(...candidates);
  const offsetAfter = tz.offset(after);
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (tz.offset(middle) === offsetAfter) after = middle;
    else before = middle;
  }
  return after;
}

function isOpeningDay(day: DateTime, schedule: Schedule): boolean {
  return schedule.days.includes(weekdayOf(day)) && (schedule.holidays.length === 0 || !schedule.holidays.includes(isoDateOf(day)));
}

/**
 * Local days are wall clocks at midnight, immutable, and a decision walks the same two or three
 * of them again and again: the neighbours of a day and its ISO date are kept.
 */
const daysByOffset = new Map<string, DateTime>();
const isoDates = new Map<number, string>();

function dayAfter(day: DateTime, offset: number): DateTime {
  if (offset === 0) return day;
  const key = `${day.toMillis()} ${offset}`;
  let shifted = daysByOffset.get(key);
  if (shifted === undefined) {
    shifted = day.plus({ days: offset });
    if (daysByOffset.size >= 10_000) daysByOffset.clear();
    daysByOffset.set(key, shifted);
  }
  return shifted;
}

function isoDateOf(day: DateTime): string {
  const millis = day.toMillis();
  let iso = isoDates.get(millis);
  if (iso === undefined) {
    iso = day.toISODate() ?? '';
    if (isoDates.size >= 10_000) isoDates.clear();
    isoDates.set(millis, iso);
  }
  return iso;
}

/**
 * Resolving wall clocks dominates the cost, and a search asks for the same few days again and
 * again, so resolved intervals are kept; they depend only on the key, so this stays pure.
 */
const intervalsByDay = new Map<string, Interval>();

function intervalOn(day: DateTime, range: DailyRange, zone: string): Interval {
  const key = `${zone} ${isoDateOf(day)} ${range.start} ${range.end}`;
  let interval = intervalsByDay.get(key);
  if (interval === undefined) {
    interval = {
      start: instantOf(day.plus({ minutes: range.start }), zone),
      end: instantOf(day.plus({ minutes: range.end }), zone),
    };
    if (intervalsByDay.size >= 100_000) intervalsByDay.clear();
    intervalsByDay.set(key, interval);
  }
  return interval;
}

/**
 * The first window that ends after `instant` (it may already have started), looking at most
 * `daysAhead` days past the instant's own day. Ranges start at most at 24:00 and last at most
 * a day, so a window still running opened today or yesterday.
 */
function windowEndingAfter(instant: number, opts: WindowOptions, daysAhead: number): Interval | null {
  const range = dailyRange(opts.schedule.start, opts.schedule.end);
  const today = localDayOf(instant, opts.zone);
  for (let offset = -1; offset <= daysAhead; offset++) {
    const day = dayAfter(today, offset);
    if (!isOpeningDay(day, opts.schedule)) continue;
    const window = intervalOn(day, range, opts.zone);
    if (window.end > instant && window.end > window.start) return window;
  }
  return null;
}

function quietHoursApply(opts: WindowOptions): opts is WindowOptions & { quietHours: QuietHours; channel: Channel } {
  const { quietHours, channel } = opts;
  return quietHours !== undefined && channel !== undefined && channel !== 'task' && quietHours.channels.includes(channel);
}

function quietPeriodAt(instant: number, opts: WindowOptions): Interval | null {
  if (!quietHoursApply(opts)) return null;
  const range = dailyRange(opts.quietHours.start, opts.quietHours.end);
  const today = localDayOf(instant, opts.zone);
  for (let offset = -1; offset <= 0; offset++) {
    const period = intervalOn(dayAfter(today, offset), range, opts.zone);
    if (period.start <= instant && instant < period.end) return period;
  }
  return null;
}

export function isInsideWindow(at: Date, opts: WindowOptions): boolean {
  const instant = at.getTime();
  const window = windowEndingAfter(instant, opts, 0);
  return window !== null && window.start <= instant && quietPeriodAt(instant, opts) === null;
}

/**
 * The window that holds `at`, else the next one: its start and end as instants (quiet hours
 * aside). Null when the schedule opens no window within the search horizon.
 */
export function windowAtOrAfter(at: Date, opts: WindowOptions): { start: Date; end: Date } | null {
  zoneOf(opts.zone);
  const window = windowEndingAfter(at.getTime(), opts, SEARCH_HORIZON_DAYS);
  return window && { start: new Date(window.start), end: new Date(window.end) };
}

/** The earliest opening at or after `at`; `at` itself when it is inside. */
export function nextOpening(at: Date, opts: WindowOptions): Date {
  zoneOf(opts.zone);
  if (quietHoursApply(opts) && quietCoversWindow(opts.schedule, opts.quietHours)) {
    const [problem] = windowProblems(opts.schedule, { ...opts.quietHours, channels: [opts.channel] });
    throw new NoOpeningError(problem);
  }
  const limit = at.getTime() + SEARCH_HORIZON_DAYS * DAY;
  let instant = at.getTime();
  while (instant <= limit) {
    const window = windowEndingAfter(instant, opts, SEARCH_HORIZON_DAYS);
    if (window === null) break;
    instant = Math.max(instant, window.start);
    const quiet = quietPeriodAt(instant, opts);
    if (quiet === null) return new Date(instant);
    instant = quiet.end;
  }
  throw new NoOpeningError(
    `no opening within ${SEARCH_HORIZON_DAYS} days after ${at.toISOString()} in ${opts.zone}` +
      ` for ${opts.channel ?? 'this step'}: check the schedule's days, holidays and quiet hours`,
  );
}

/** Minutes of a week (Monday 00:00 first) covered by a daily range on the given opening days. */
function weeklyMask(range: DailyRange, days: readonly Weekday[]): Uint8Array {
  const week = 7 * MINUTES_PER_DAY;
  const mask = new Uint8Array(week);
  for (const day of days) {
    const dayStart = WEEKDAYS.indexOf(day) * MINUTES_PER_DAY;
    for (let minute = range.start; minute < range.end; minute++) mask[(dayStart + minute) % week] = 1;
  }
  return mask;
}

/**
 * Channels whose steps could never run because quiet hours cover every minute of the schedule
 * window on every allowed day. Checked on the wall clock, ignoring holidays and DST: resolving
 * wall clocks to instants keeps their order, so a window inside quiet hours stays inside.
 */
export function closedChannels(schedule: Schedule, quietHours: QuietHours): Channel[] {
  return quietCoversWindow(schedule, quietHours) ? [...new Set(quietHours.channels)] : [];
}

/** nextOpening asks this on every call, and the answer depends only on the key. */
const coverByRanges = new Map<string, boolean>();

function quietCoversWindow(schedule: Schedule, quietHours: QuietHours): boolean {
  const key = [schedule.days.join(), schedule.start, schedule.end, quietHours.start, quietHours.end].join(' ');
  let covers = coverByRanges.get(key);
  if (covers === undefined) {
    const window = weeklyMask(dailyRange(schedule.start, schedule.end), schedule.days);
    const quiet = weeklyMask(dailyRange(quietHours.start, quietHours.end), WEEKDAYS);
    covers = !window.some((open, minute) => open === 1 && quiet[minute] === 0);
    if (coverByRanges.size >= 10_000) coverByRanges.clear();
    coverByRanges.set(key, covers);
  }
  return covers;
}

/** Sentences for a validator: each names a channel the schedule and quiet hours shut out. */
export function windowProblems(schedule: Schedule, quietHours: QuietHours): string[] {
  return closedChannels(schedule, quietHours).map(
    (channel) =>
      `quiet hours ${quietHours.start}–${quietHours.end} cover the whole schedule window ` +
      `${schedule.start}–${schedule.end} on every allowed day, so ${channel} steps could never be sent`,
  );
}
