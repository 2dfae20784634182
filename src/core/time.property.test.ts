import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { CHANNELS, WEEKDAYS, type QuietHours, type Schedule } from './definition.ts';
import { addDuration, closedChannels, isInsideWindow, nextOpening, NoOpeningError, type WindowOptions } from './time.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONES = [
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'America/Santiago', // southern DST, transitions at midnight
  'Europe/Berlin',
  'Europe/London',
  'Australia/Sydney',
  'Australia/Lord_Howe', // 30-minute DST
  'Pacific/Chatham', // +12:45 / +13:45
  'Asia/Kolkata',
  'Asia/Tokyo',
] as const;
const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2030, 11, 31);

/** Days on which each zone's offset changes, so generated instants land near them often. */
const transitionsByZone = new Map(
  ZONES.map((zone) => {
    const tz = IANAZone.create(zone);
    const days: number[] = [];
    for (let day = FROM; day < TO; day += DAY) if (tz.offset(day) !== tz.offset(day + DAY)) days.push(day);
    return [zone, days] as const;
  }),
);

const localTime = fc.oneof(
  fc.integer({ min: 0, max: 96 }).map((quarter) => clock(quarter * 15)),
  fc.constantFrom('00:00', '01:30', '02:00', '02:15', '02:30', '03:00', '24:00'),
);

const scenario = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    uniform: fc.integer({ min: FROM, max: TO }),
    nearTransition: fc.option(fc.tuple(fc.nat(), fc.integer({ min: -36 * HOUR, max: 36 * HOUR }))),
    days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
    start: localTime,
    end: localTime,
    holidayOffsets: fc.array(fc.integer({ min: -3, max: 25 }), { maxLength: 8 }),
    quietHours: fc.option(
      fc.record({ start: localTime, end: localTime, channels: fc.subarray([...CHANNELS]) }),
      { nil: undefined },
    ),
    channel: fc.constantFrom<WindowOptions['channel']>('email', 'sms', 'voice', 'task', undefined),
  })
  .map(({ zone, uniform, nearTransition, holidayOffsets, days, start, end, quietHours, channel }) => {
    const transitions = transitionsByZone.get(zone) ?? [];
    const [pick, shift] = nearTransition ?? [0, 0];
    const instant =
      nearTransition && transitions.length > 0 ? (transitions[pick % transitions.length] ?? uniform) + shift : uniform;
    const today = DateTime.fromMillis(instant, { zone });
    const holidays = holidayOffsets.map((offset) => today.plus({ days: offset }).toISODate() ?? '');
    const schedule: Schedule = { timezone: zone, days, start, end, holidays };
    const opts: WindowOptions = { zone, schedule, channel, ...(quietHours ? { quietHours: quietHours as QuietHours } : {}) };
    return { at: new Date(instant), opts };
  });

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function rangeOf(start: string, end: string): [number, number] {
  const [from, to] = [start, end].map((time) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3))) as [number, number];
  if (from % 1440 === to % 1440) return [0, 1440];
  return [from, to > from ? to : to + 1440];
}

/** No offset change within a day either side: there the wall-clock oracle below is exact. */
function farFromTransitions(instant: number, zone: string): boolean {
  const tz = IANAZone.create(zone);
  const offset = tz.offset(instant);
  return tz.offset(instant - 26 * HOUR) === offset && tz.offset(instant + 26 * HOUR) === offset;
}

/** An independent reading of the rules on the local wall clock, valid away from DST changes. */
function wallClockInside(instant: number, opts: WindowOptions): boolean {
  const local = DateTime.fromMillis(instant, { zone: opts.zone });
  const minute = local.hour * 60 + local.minute + local.second / 60 + local.millisecond / 60_000;
  const today = DateTime.utc(local.year, local.month, local.day);
  const [start, end] = rangeOf(opts.schedule.start, opts.schedule.end);
  const opensOn = (day: DateTime, sinceMidnight: number): boolean =>
    opts.schedule.days.includes(WEEKDAYS[day.weekday - 1]!) &&
    !opts.schedule.holidays.includes(day.toISODate() ?? '') &&
    start <= sinceMidnight &&
    sinceMidnight < end;
  const inWindow = opensOn(today, minute) || opensOn(today.minus({ days: 1 }), minute + 1440);
  const { quietHours, channel } = opts;
  if (!inWindow || !quietHours || !channel || channel === 'task' || !quietHours.channels.includes(channel)) {
    return inWindow;
  }
  const [quietStart, quietEnd] = rangeOf(quietHours.start, quietHours.end);
  const quiet = [minute, minute + 1440].some((m) => quietStart <= m && m < quietEnd);
  return !quiet;
}

function isClosed(opts: WindowOptions): boolean {
  const { quietHours, channel } = opts;
  if (!quietHours || !channel || channel === 'task' || !quietHours.channels.includes(channel)) return false;
  return closedChannels(opts.schedule, quietHours).includes(channel);
}

/** Instants strictly between two: every 15 minutes for up to 3 days, every minute near both ends. */
function samplesBetween(from: number, to: number): number[] {
  const samples: number[] = [];
  const last = Math.min(to, from + 3 * DAY);
  for (let instant = from + 15 * 60_000; instant < last; instant += 15 * 60_000) samples.push(instant);
  for (let minute = 1; minute <= 60; minute++) samples.push(from + minute * 60_000, to - minute * 60_000);
  return samples.filter((instant) => instant > from && instant < to);
}

describe('nextOpening properties', () => {
  it('finds the earliest opening, inside the window and outside quiet hours', () => {
    fc.assert(
      fc.property(scenario, ({ at, opts }) => {
        if (isClosed(opts)) {
          expect(() => nextOpening(at, opts)).toThrow(NoOpeningError);
          expect(isInsideWindow(at, opts)).toBe(false);
          return;
        }
        const opening = nextOpening(at, opts);
        expect(opening.getTime()).toBeGreaterThanOrEqual(at.getTime());
        expect(isInsideWindow(opening, opts)).toBe(true);
        expect(nextOpening(opening, opts)).toEqual(opening);
        expect(isInsideWindow(at, opts)).toBe(opening.getTime() === at.getTime());
        if (farFromTransitions(opening.getTime(), opts.zone)) expect(wallClockInside(opening.getTime(), opts)).toBe(true);
        for (const sample of samplesBetween(at.getTime(), opening.getTime())) {
          expect(isInsideWindow(new Date(sample), opts)).toBe(false);
          if (farFromTransitions(sample, opts.zone)) expect(wallClockInside(sample, opts)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the wall-clock reading of the rules away from DST changes', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.integer({ min: 0, max: 2 * DAY }), { minLength: 20, maxLength: 20 }), ({ at, opts }, shifts) => {
        for (const shift of shifts) {
          const instant = at.getTime() + shift;
          if (!farFromTransitions(instant, opts.zone)) continue;
          expect(isInsideWindow(new Date(instant), opts)).toBe(wallClockInside(instant, opts));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('addDuration properties', () => {
  const wait = fc.record({
    zone: fc.constantFrom(...ZONES),
    at: fc.integer({ min: FROM, max: TO }),
    days: fc.integer({ min: 0, max: 40 }),
    hours: fc.integer({ min: 0, max: 48 }),
  });

  it('keeps the wall clock for days and real time for hours', () => {
    fc.assert(
      fc.property(wait, ({ zone, at, days, hours }) => {
        const from = new Date(at);
        expect(addDuration(from, `PT${hours}H`, { zone }).getTime()).toBe(at + hours * HOUR);
        const later = DateTime.fromJSDate(addDuration(from, `P${days}D`, { zone }), { zone });
        const start = DateTime.fromJSDate(from, { zone });
        expect(later.toISODate()).toBe(start.plus({ days }).toISODate());
        if (farFromTransitions(later.toMillis(), zone) && farFromTransitions(at, zone)) {
          expect(later.toFormat('HH:mm:ss.SSS')).toBe(start.toFormat('HH:mm:ss.SSS'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lands business-day waits on a business day at the same local time', () => {
    fc.assert(
      fc.property(wait, fc.subarray([...WEEKDAYS], { minLength: 1 }), ({ zone, at, days }, businessDays) => {
        const schedule: Schedule = { timezone: 'lead', days: businessDays, start: '09:00', end: '17:00', holidays: [] };
        const from = new Date(at);
        const later = DateTime.fromJSDate(addDuration(from, `P${days}D`, { zone, businessDays: true, schedule }), { zone });
        expect(later.toMillis()).toBeGreaterThanOrEqual(at);
        if (days > 0) expect(businessDays).toContain(WEEKDAYS[later.weekday - 1]);
        if (farFromTransitions(later.toMillis(), zone) && farFromTransitions(at, zone)) {
          expect(later.toFormat('HH:mm:ss.SSS')).toBe(DateTime.fromJSDate(from, { zone }).toFormat('HH:mm:ss.SSS'));
        }
      }),
      { numRuns: 200 },
    );
  });
});
