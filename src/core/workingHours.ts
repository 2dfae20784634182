/**
 * A member's working hours and the due time of a task assigned to them (docs/ACCOUNTS.md,
 * "Working hours"; docs/SEQUENCES.md, "Who a task is for"). Pure: every function takes its instants.
 *
 * Terminology:
 * - working hours: a zone and a schedule (days, start, end, holidays) in the sequence
 *   definition's shape; a member without their own has the workspace's zone and default schedule.
 * - working moment: an instant inside the schedule's window in that zone (quiet hours, which are
 *   about leads, never apply).
 * - due allowance (`dueWithin` of a task step): days count working days, keeping the time of day;
 *   hours and minutes count working time (PT4H is four hours of the window, not of the clock).
 */
import { Duration } from 'luxon';
import { isValidZone, scheduleSchema, WEEKDAYS, type Schedule } from './definition.ts';
import { addDuration } from './time.ts';
import { nextOpening, NoOpeningError, windowAtOrAfter } from './windows.ts';

export interface WorkingHours {
  zone: string;
  schedule: Schedule;
}

/** The working day of a workspace that has no default schedule: Monday to Friday, 09:00–17:00. */
export const DEFAULT_WORKING_SCHEDULE: Schedule = scheduleSchema.parse({ days: WEEKDAYS.slice(0, 5), start: '09:00', end: '17:00' });

/** A member's schedule as stored or sent: the definition's shape, without a zone of its own (the member's `timezone` says it). */
export const memberScheduleSchema = scheduleSchema
  .refine((s) => s.timezone === 'lead' && s.fallbackTimezone === undefined, {
    message: "a member's schedule takes no timezone: set the member's zone in `timezone` beside it",
  })
  .transform(({ days, start, end, holidays }) => ({ days, start, end, holidays }));

/**
 * The hours a member works in: their own zone and schedule where set, else the workspace's zone
 * and default schedule, else DEFAULT_WORKING_SCHEDULE. A stored value that no longer parses falls
 * back the same way rather than losing the task's due time.
 */
export function workingHoursOf(
  member: { timezone?: string | null; schedule?: unknown },
  workspace: { timezone: string; defaultSchedule?: unknown },
): WorkingHours {
  const zone = [member.timezone, workspace.timezone].find((z): z is string => typeof z === 'string' && isValidZone(z)) ?? 'UTC';
  const own = member.schedule == null ? undefined : scheduleSchema.safeParse(member.schedule);
  const shared = workspace.defaultSchedule == null ? undefined : scheduleSchema.safeParse(workspace.defaultSchedule);
  const schedule = own?.success ? own.data : shared?.success ? shared.data : DEFAULT_WORKING_SCHEDULE;
  return { zone, schedule };
}

/** More windows than any allowance a step can name (a year of working days and then some). */
const MAX_WINDOWS = 2_000;

/**
 * When a task opened at `openedAt` is due: the first working moment at or after it, plus the
 * allowance when there is one (days as working days, then hours and minutes as working time).
 * Throws NoOpeningError when the hours leave no working moment (every day a holiday).
 */
export function taskDueAt(openedAt: Date, hours: WorkingHours, dueWithin?: string): Date {
  const opts = { zone: hours.zone, schedule: hours.schedule, channel: 'task' as const };
  let at = nextOpening(openedAt, opts);
  if (!dueWithin) return at;
  const duration = Duration.fromISO(dueWithin);
  if (!duration.isValid) throw new RangeError(`"${dueWithin}" is not an ISO-8601 duration such as "PT4H" or "P1D"`);
  const { years = 0, months = 0, weeks = 0, days = 0, hours: h = 0, minutes = 0, seconds = 0 } = duration.toObject();
  const calendar = Duration.fromObject({ years, months, weeks, days });
  if (calendar.toMillis() > 0) {
    at = nextOpening(addDuration(at, calendar.toISO()!, { zone: hours.zone, businessDays: true, schedule: hours.schedule }), opts);
  }
  let remaining = Duration.fromObject({ hours: h, minutes, seconds }).toMillis();
  for (let spent = 0; remaining > 0; spent++) {
    const window = windowAtOrAfter(at, opts);
    if (!window || spent > MAX_WINDOWS) throw new NoOpeningError(`no working time for ${dueWithin} after ${openedAt.toISOString()} in ${hours.zone}`);
    const room = window.end.getTime() - at.getTime();
    if (remaining <= room) return new Date(at.getTime() + remaining);
    remaining -= room;
    at = nextOpening(window.end, opts);
  }
  return at;
}
