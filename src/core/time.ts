/**
 * Time in the lead's zone (DESIGN.md, "Time"): which zone applies, how waits add up, and (from
 * `windows.ts`) when a step may run. Pure: no clock, every function takes its instants.
 *
 * Instants are JS `Date`s at the boundary; all zone math goes through luxon.
 */
import { Duration, type DateTime } from 'luxon';
import { isValidZone, WEEKDAYS, type Schedule, type Weekday } from './definition.ts';
import { instantOf, localDayOf, SEARCH_HORIZON_DAYS, wallClockOf, weekdayOf } from './windows.ts';

export {
  closedChannels,
  isInsideWindow,
  nextOpening,
  NoOpeningError,
  SEARCH_HORIZON_DAYS,
  windowProblems,
  type WindowOptions,
} from './windows.ts';

const DAY = 86_400_000;
const DEFAULT_BUSINESS_DAYS: readonly Weekday[] = WEEKDAYS.slice(0, 5);

/**
 * The zone a lead's steps are timed in: a schedule pinned to a zone wins; otherwise the lead's
 * own zone, then the schedule's fallback, then the workspace's, then UTC. Invalid zones are
 * skipped rather than fatal, because lead data arrives from CSV imports and CRMs.
 */
export function resolveZone(
  leadZone: string | null | undefined,
  schedule: Schedule,
  workspaceZone?: string,
): string {
  const pinned = schedule.timezone === 'lead' ? undefined : schedule.timezone;
  const chain = [pinned, leadZone, schedule.fallbackTimezone, workspaceZone];
  return chain.find((zone): zone is string => typeof zone === 'string' && isValidZone(zone)) ?? 'UTC';
}

function parseDuration(iso: string): Duration {
  const duration = Duration.fromISO(iso);
  if (!duration.isValid) throw new RangeError(`"${iso}" is not an ISO-8601 duration such as "PT30S" or "P2D"`);
  return duration;
}

/** A duration in real milliseconds, a day counted as 24 h; months and years have no fixed length. */
export function durationMillis(iso: string): number {
  const duration = parseDuration(iso);
  const { years = 0, months = 0 } = duration.toObject();
  if (years !== 0 || months !== 0) {
    throw new RangeError(`"${iso}" has months or years, which have no fixed length; use addDuration`);
  }
  return duration.toMillis();
}

export interface DurationOptions {
  zone: string;
  /** Count the duration's days (and weeks, as 5 days each) in business days. */
  businessDays?: boolean;
  /** Business days are its `days` minus its `holidays`; without it, Monday to Friday. */
  schedule?: Schedule;
}

/**
 * `from` plus an ISO-8601 duration in `zone`. Years, months, weeks and days move the wall clock
 * (P1D is the same local time tomorrow, 23 or 25 h across DST); hours, minutes and seconds are
 * real time (PT24H is always 24 h). With `businessDays`, days step over non-business days and
 * keep the local time of day; years and months stay calendar. A fraction of a day is real time.
 */
export function addDuration(from: Date, isoDuration: string, opts: DurationOptions): Date {
  const parts = parseDuration(isoDuration).toObject();
  const { years = 0, months = 0, weeks = 0, days = 0 } = parts;
  if (!Number.isInteger(years) || !Number.isInteger(months)) {
    throw new RangeError(`"${isoDuration}": fractional months or years have no meaning on a calendar`);
  }
  const dayCount = opts.businessDays ? weeks * 5 + days : weeks * 7 + days;
  const wholeDays = Math.trunc(dayCount);
  const realTime =
    (dayCount - wholeDays) * DAY +
    Duration.fromObject({
      hours: parts.hours ?? 0,
      minutes: parts.minutes ?? 0,
      seconds: parts.seconds ?? 0,
      milliseconds: parts.milliseconds ?? 0,
    }).toMillis();

  // Re-resolving an unchanged wall clock could move an instant in a repeated hour, so skip it.
  if (years === 0 && months === 0 && wholeDays === 0) return new Date(from.getTime() + realTime);

  let wallClock = wallClockOf(from.getTime(), opts.zone).plus({ years, months });
  if (opts.businessDays) {
    wallClock = afterBusinessDays(wallClock, wholeDays, opts);
  } else {
    wallClock = wallClock.plus({ days: wholeDays });
  }
  return new Date(instantOf(wallClock, opts.zone) + realTime);
}

function afterBusinessDays(
  wallClock: DateTime,
  count: number,
  opts: DurationOptions,
): DateTime {
  if (count < 0) throw new RangeError('business-day durations must not be negative');
  const businessDays = opts.schedule?.days ?? DEFAULT_BUSINESS_DAYS;
  const holidays = new Set(opts.schedule?.holidays ?? []);
  const isBusinessDay = (day: DateTime): boolean =>
    businessDays.includes(weekdayOf(day)) && !holidays.has(day.toISODate() ?? '');
  let day = wallClock;
  for (let counted = 0; counted < count; counted++) {
    let skipped = 0;
    do {
      day = day.plus({ days: 1 });
      if (++skipped > SEARCH_HORIZON_DAYS) {
        throw new RangeError(`no business day within ${SEARCH_HORIZON_DAYS} days of ${day.toISODate()}`);
      }
    } while (!isBusinessDay(day));
  }
  return day;
}

/** The local calendar date (`YYYY-MM-DD`) of an instant, e.g. to compare with holidays. */
export function localDate(at: Date, zone: string): string {
  return localDayOf(at.getTime(), zone).toISODate() ?? '';
}
