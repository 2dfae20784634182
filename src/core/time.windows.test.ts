import { describe, expect, it } from 'vitest';
import { quietHoursSchema, scheduleSchema, type QuietHours, type Schedule } from './definition.ts';
import {
  isInsideWindow,
  nextOpening,
  NoOpeningError,
  resolveZone,
  windowProblems,
  type WindowOptions,
} from './time.ts';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const WEEKDAYS_ONLY: Schedule['days'] = ['mon', 'tue', 'wed', 'thu', 'fri'];

function schedule(fields: Partial<Schedule> = {}): Schedule {
  return scheduleSchema.parse(fields);
}
function quiet(fields: Partial<QuietHours> = {}): QuietHours {
  return quietHoursSchema.parse(fields);
}
/** Expected instants carry their offset so no test depends on luxon's guesses. */
function at(isoWithOffset: string): Date {
  return new Date(isoWithOffset);
}

/** Asserts the opening and, to keep the two functions honest, that it is inside. */
function expectOpening(from: string, expected: string, opts: WindowOptions): void {
  const opening = nextOpening(at(from), opts);
  expect(opening.toISOString()).toBe(at(expected).toISOString());
  expect(isInsideWindow(opening, opts)).toBe(true);
  expect(isInsideWindow(at(from), opts)).toBe(from === expected);
}

describe('nextOpening on ordinary days', () => {
  const office = { zone: NY, schedule: schedule({ days: WEEKDAYS_ONLY, start: '09:00', end: '17:00' }) };

  it('returns an instant already inside unchanged', () => {
    const inside = at('2026-03-10T10:15:42.123-04:00');
    expect(nextOpening(inside, office)).toEqual(inside);
  });

  it('waits for the start of the day, and the next day after the end', () => {
    expectOpening('2026-03-10T07:00-04:00', '2026-03-10T09:00-04:00', office);
    expectOpening('2026-03-10T17:00-04:00', '2026-03-11T09:00-04:00', office);
  });

  it('skips the weekend', () => {
    expectOpening('2026-03-13T17:30-04:00', '2026-03-16T09:00-04:00', office);
  });

  it('skips a holiday, and a run of them', () => {
    const holidays = ['2026-12-24', '2026-12-25', '2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01'];
    const opts = { zone: NY, schedule: schedule({ ...office.schedule, holidays }) };
    expectOpening('2026-12-23T18:00-05:00', '2027-01-04T09:00-05:00', opts);
  });

  it('rejects an unknown zone', () => {
    expect(() => nextOpening(at('2026-03-10T10:00Z'), { ...office, zone: 'Nowhere/Land' })).toThrow(RangeError);
    expect(() => isInsideWindow(at('2026-03-10T10:00Z'), { ...office, zone: 'Nowhere/Land' })).toThrow(RangeError);
  });
});

describe('windows crossing midnight', () => {
  const night = { zone: NY, schedule: schedule({ days: WEEKDAYS_ONLY, start: '22:00', end: '02:00' }) };

  it('runs into the next day from an allowed opening day', () => {
    expectOpening('2026-03-14T01:00-04:00', '2026-03-14T01:00-04:00', night); // opened Friday
  });

  it('judges the day the window opens, not the day it ends', () => {
    expectOpening('2026-03-16T01:00-04:00', '2026-03-16T22:00-04:00', night); // Sunday's never opened
    expectOpening('2026-03-10T02:00-04:00', '2026-03-10T22:00-04:00', night);
  });

  it('loses only the holiday’s own opening', () => {
    const opts = { zone: NY, schedule: schedule({ ...night.schedule, holidays: ['2026-03-10'] }) };
    expectOpening('2026-03-10T01:00-04:00', '2026-03-10T01:00-04:00', opts); // opened Monday
    expectOpening('2026-03-10T21:00-04:00', '2026-03-11T22:00-04:00', opts);
  });

  it('runs to midnight with a 24:00 end', () => {
    const evening = { zone: NY, schedule: schedule({ days: WEEKDAYS_ONLY, start: '18:00', end: '24:00' }) };
    expect(isInsideWindow(at('2026-03-13T23:59:59.999-04:00'), evening)).toBe(true);
    expectOpening('2026-03-14T00:00-04:00', '2026-03-16T18:00-04:00', evening);
  });

  it('covers the whole day when start equals end', () => {
    const saturdays = { zone: NY, schedule: schedule({ days: ['sat'], start: '00:00', end: '00:00' }) };
    expectOpening('2026-03-13T23:00-04:00', '2026-03-14T00:00-04:00', saturdays);
    expectOpening('2026-03-14T12:00-04:00', '2026-03-14T12:00-04:00', saturdays);
    expectOpening('2026-03-15T00:00-04:00', '2026-03-21T00:00-04:00', saturdays);
  });

  it('opens a whole day at the first instant of a day whose midnight does not exist', () => {
    // America/Santiago skips from 00:00 to 01:00 on Sunday 2026-09-06.
    const sundays = { zone: 'America/Santiago', schedule: schedule({ days: ['sun'], start: '07:00', end: '07:00' }) };
    expectOpening('2026-09-05T12:00-04:00', '2026-09-06T01:00-03:00', sundays);
  });
});

describe('nextOpening across DST', () => {
  const early = (zone: string) => ({ zone, schedule: schedule({ start: '02:30', end: '05:00' }) });

  it('New York spring forward: 02:30 does not exist, the window opens at 03:00', () => {
    expectOpening('2026-03-08T00:00-05:00', '2026-03-08T03:00-04:00', early(NY));
  });

  it('New York fall back: 02:30 happens once', () => {
    expectOpening('2026-11-01T00:00-04:00', '2026-11-01T02:30-05:00', early(NY));
  });

  it('New York fall back: a window at the repeated 01:30 opens at the first one', () => {
    const opts = { zone: NY, schedule: schedule({ start: '01:30', end: '03:00' }) };
    expectOpening('2026-11-01T00:00-04:00', '2026-11-01T01:30-04:00', opts);
    expect(isInsideWindow(at('2026-11-01T01:15-05:00'), opts)).toBe(true); // 2.5 real hours long
  });

  it('Berlin spring forward: 02:30 does not exist, the window opens at 03:00', () => {
    expectOpening('2026-03-29T00:00+01:00', '2026-03-29T03:00+02:00', early(BERLIN));
  });

  it('Berlin fall back: the repeated 02:30 opens at the first one', () => {
    expectOpening('2026-10-25T00:00+02:00', '2026-10-25T02:30+02:00', early(BERLIN));
  });

  it('an end inside the gap closes the window at the transition', () => {
    const opts = { zone: NY, schedule: schedule({ start: '01:00', end: '02:30' }) };
    expect(isInsideWindow(at('2026-03-08T01:59-05:00'), opts)).toBe(true);
    expectOpening('2026-03-08T03:00-04:00', '2026-03-09T01:00-04:00', opts);
  });

  it('Lord Howe’s half-hour shifts', () => {
    const zone = 'Australia/Lord_Howe'; // 02:00 → 02:30 on 2026-10-04; 02:00 → 01:30 on 2026-04-05
    expectOpening('2026-10-04T00:00+10:30', '2026-10-04T02:30+11:00', { zone, schedule: schedule({ start: '02:15', end: '04:00' }) });
    expectOpening('2026-04-05T00:00+11:00', '2026-04-05T01:45+11:00', { zone, schedule: schedule({ start: '01:45', end: '03:00' }) });
  });
});

describe('zones with non-hour offsets', () => {
  it('Asia/Kolkata (+05:30) and Pacific/Chatham (+13:45 in summer)', () => {
    const office = schedule({ start: '09:00', end: '17:00' });
    expectOpening('2026-03-10T00:00Z', '2026-03-10T09:00+05:30', { zone: 'Asia/Kolkata', schedule: office });
    expectOpening('2026-01-14T12:00Z', '2026-01-15T09:00+13:45', { zone: 'Pacific/Chatham', schedule: office });
  });
});

describe('quiet hours', () => {
  const long = { zone: NY, schedule: schedule({ start: '06:00', end: '23:00' }), quietHours: quiet() };

  it('hold back sms and voice, not email or tasks', () => {
    const late = '2026-03-10T21:30-04:00';
    expectOpening(late, '2026-03-11T08:00-04:00', { ...long, channel: 'sms' });
    expectOpening(late, '2026-03-11T08:00-04:00', { ...long, channel: 'voice' });
    expectOpening(late, late, { ...long, channel: 'email' });
    expectOpening(late, late, { ...long, channel: 'task' });
  });

  it('end inside the window', () => {
    expectOpening('2026-03-10T06:30-04:00', '2026-03-10T08:00-04:00', { ...long, channel: 'sms' });
  });

  it('apply only to the channels they list', () => {
    const opts = { ...long, quietHours: quiet({ channels: ['email'] }) };
    expectOpening('2026-03-10T21:30-04:00', '2026-03-11T08:00-04:00', { ...opts, channel: 'email' });
    expectOpening('2026-03-10T21:30-04:00', '2026-03-10T21:30-04:00', { ...opts, channel: 'sms' });
  });

  it('that cover the whole window make nextOpening throw', () => {
    const night = { zone: NY, schedule: schedule({ start: '22:00', end: '06:00' }), quietHours: quiet() };
    expect(() => nextOpening(at('2026-03-10T12:00Z'), { ...night, channel: 'sms' })).toThrow(NoOpeningError);
    expectOpening('2026-03-10T12:00-04:00', '2026-03-10T22:00-04:00', { ...night, channel: 'email' });
  });

  it('follow the fallback zone of a lead without a valid zone', () => {
    const fallback = schedule({ start: '06:00', end: '23:00', fallbackTimezone: BERLIN });
    for (const leadZone of [null, 'Europe/Nowhere']) {
      const opts = { zone: resolveZone(leadZone, fallback), schedule: fallback, quietHours: quiet(), channel: 'sms' as const };
      expectOpening('2026-03-10T22:00+01:00', '2026-03-11T08:00+01:00', opts);
    }
  });
});

describe('windowProblems', () => {
  it('names each channel a night window can never reach', () => {
    const problems = windowProblems(schedule({ start: '22:00', end: '06:00' }), quiet());
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/sms steps could never be sent/);
    expect(problems[1]).toMatch(/voice steps could never be sent/);
  });

  it('accepts windows that overlap quiet hours only in part', () => {
    expect(windowProblems(schedule(), quiet())).toEqual([]);
    expect(windowProblems(schedule({ start: '20:00', end: '22:00' }), quiet())).toEqual([]);
  });

  it('treats quiet hours with equal ends as the whole day', () => {
    expect(windowProblems(schedule(), quiet({ start: '00:00', end: '00:00', channels: ['sms'] }))).toHaveLength(1);
  });

  it('a holiday on every allowed day makes nextOpening throw', () => {
    const everyMonday = Array.from({ length: 170 }, (_, week) =>
      new Date(Date.UTC(2026, 2, 9 + 7 * week)).toISOString().slice(0, 10),
    );
    const opts = { zone: NY, schedule: schedule({ days: ['mon'], holidays: everyMonday }) };
    expect(() => nextOpening(at('2026-03-08T12:00Z'), opts)).toThrow(NoOpeningError);
  });
});
