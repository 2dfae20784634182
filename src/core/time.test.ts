import { describe, expect, it } from 'vitest';
import { scheduleSchema, type Schedule } from './definition.ts';
import { addDuration, durationMillis, localDate, resolveZone } from './time.ts';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';

function schedule(fields: Partial<Schedule> = {}): Schedule {
  return scheduleSchema.parse(fields);
}

/** Expected instants are written with their offset so no test depends on luxon's guesses. */
function at(isoWithOffset: string): Date {
  return new Date(isoWithOffset);
}

describe('resolveZone', () => {
  it('uses a zone pinned on the schedule over the lead’s', () => {
    expect(resolveZone('Asia/Tokyo', schedule({ timezone: BERLIN }))).toBe(BERLIN);
  });

  it('uses the lead’s zone when the schedule follows the lead', () => {
    expect(resolveZone('Asia/Tokyo', schedule({ fallbackTimezone: NY }), 'UTC')).toBe('Asia/Tokyo');
  });

  it('falls back to the schedule’s fallback when the lead has no zone', () => {
    expect(resolveZone(null, schedule({ fallbackTimezone: NY }), BERLIN)).toBe(NY);
    expect(resolveZone(undefined, schedule({ fallbackTimezone: NY }))).toBe(NY);
  });

  it('skips an invalid lead zone', () => {
    expect(resolveZone('Mars/Olympus_Mons', schedule({ fallbackTimezone: NY }))).toBe(NY);
    expect(resolveZone('', schedule(), BERLIN)).toBe(BERLIN);
  });

  it('ends with the workspace’s zone, then UTC', () => {
    expect(resolveZone(null, schedule(), BERLIN)).toBe(BERLIN);
    expect(resolveZone(null, schedule(), 'Not/AZone')).toBe('UTC');
    expect(resolveZone(null, schedule())).toBe('UTC');
  });
});

describe('addDuration across DST', () => {
  const cases: Array<[string, string, string, string, string]> = [
    // zone, from, duration, expected, why
    [NY, '2026-03-07T10:00-05:00', 'P1D', '2026-03-08T10:00-04:00', 'spring forward: 23 real hours'],
    [NY, '2026-03-07T10:00-05:00', 'PT24H', '2026-03-08T11:00-04:00', 'spring forward: 24 real hours'],
    [NY, '2026-10-31T10:00-04:00', 'P1D', '2026-11-01T10:00-05:00', 'fall back: 25 real hours'],
    [NY, '2026-10-31T10:00-04:00', 'PT24H', '2026-11-01T09:00-05:00', 'fall back: 24 real hours'],
    [BERLIN, '2026-03-28T10:00+01:00', 'P1D', '2026-03-29T10:00+02:00', 'spring forward'],
    [BERLIN, '2026-03-28T10:00+01:00', 'PT24H', '2026-03-29T11:00+02:00', 'spring forward'],
    [BERLIN, '2026-10-24T10:00+02:00', 'P1D', '2026-10-25T10:00+01:00', 'fall back'],
    [BERLIN, '2026-10-24T10:00+02:00', 'PT24H', '2026-10-25T09:00+01:00', 'fall back'],
    [NY, '2026-03-07T10:00-05:00', 'P1DT2H', '2026-03-08T12:00-04:00', 'days on the wall clock, hours real'],
    [NY, '2026-03-05T10:00-05:00', 'P1W', '2026-03-12T10:00-04:00', 'a week of wall-clock days'],
    [NY, '2026-01-31T10:00-05:00', 'P1M', '2026-02-28T10:00-05:00', 'a month clamps to its last day'],
    [NY, '2026-03-07T02:30-05:00', 'P1D', '2026-03-08T03:00-04:00', 'a missing local time moves past the gap'],
    [NY, '2026-10-31T01:30-04:00', 'P1D', '2026-11-01T01:30-04:00', 'a repeated local time takes the first'],
    [NY, '2026-11-01T01:30-05:00', 'PT1H', '2026-11-01T02:30-05:00', 'plain time from the second 01:30'],
    [NY, '2026-11-01T01:30-05:00', 'PT0S', '2026-11-01T01:30-05:00', 'nothing to add keeps the instant'],
    [NY, '2026-03-07T10:00-05:00', 'P1.5D', '2026-03-08T22:00-04:00', 'a fraction of a day is real time'],
  ];
  it.each(cases)('%s %s + %s = %s (%s)', (zone, from, duration, expected) => {
    expect(addDuration(at(from), duration, { zone })).toEqual(at(expected));
  });

  it('rejects what is not a duration, and fractional months', () => {
    expect(() => addDuration(at('2026-03-07T10:00Z'), 'two days', { zone: NY })).toThrow(RangeError);
    expect(() => addDuration(at('2026-03-07T10:00Z'), 'P1.5M', { zone: NY })).toThrow(RangeError);
    expect(() => addDuration(at('2026-03-07T10:00Z'), 'P1D', { zone: 'Nowhere/Land' })).toThrow(RangeError);
  });
});

describe('addDuration in business days', () => {
  const business = (from: string, duration: string, fields?: Partial<Schedule>, zone = NY): Date =>
    addDuration(at(from), duration, { zone, businessDays: true, ...(fields ? { schedule: schedule(fields) } : {}) });
  const monToFri: Partial<Schedule> = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] };

  it('steps from Friday over the weekend and the spring-forward Sunday', () => {
    expect(business('2026-03-06T10:00-05:00', 'P1D')).toEqual(at('2026-03-09T10:00-04:00'));
  });

  it('steps from Friday over the fall-back Sunday in Berlin', () => {
    expect(business('2026-10-23T10:00+02:00', 'P1D', undefined, BERLIN)).toEqual(at('2026-10-26T10:00+01:00'));
  });

  it('skips a Monday holiday', () => {
    const fields = { ...monToFri, holidays: ['2026-03-16'] };
    expect(business('2026-03-13T10:00-04:00', 'P2D', fields)).toEqual(at('2026-03-18T10:00-04:00'));
  });

  it('skips a run of holidays around new year', () => {
    const holidays = ['2026-12-25', '2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01'];
    expect(business('2026-12-24T10:00-05:00', 'P1D', { ...monToFri, holidays })).toEqual(at('2027-01-04T10:00-05:00'));
  });

  it('starts counting after a weekend start day', () => {
    expect(business('2026-03-07T10:00-05:00', 'P1D')).toEqual(at('2026-03-09T10:00-04:00'));
  });

  it('counts a week as five business days', () => {
    expect(business('2026-03-04T10:00-05:00', 'P1W')).toEqual(at('2026-03-11T10:00-04:00'));
  });

  it('adds hours as real time after the business days', () => {
    expect(business('2026-03-06T16:00-05:00', 'P1DT2H')).toEqual(at('2026-03-09T18:00-04:00'));
    expect(business('2026-03-06T16:00-05:00', 'PT4H')).toEqual(at('2026-03-06T20:00-05:00'));
  });

  it('uses the schedule’s days as business days', () => {
    const sundayToThursday: Partial<Schedule> = { days: ['sun', 'mon', 'tue', 'wed', 'thu'] };
    expect(business('2026-03-12T10:00-04:00', 'P1D', sundayToThursday)).toEqual(at('2026-03-15T10:00-04:00'));
  });

  it('keeps months on the calendar, then counts business days', () => {
    // 2026-04-06 is a Monday; one business day later is Tuesday.
    expect(business('2026-03-06T10:00-05:00', 'P1M1D', monToFri)).toEqual(at('2026-04-07T10:00-04:00'));
  });

  it('gives up when no business day exists', () => {
    const everyMonday = Array.from({ length: 170 }, (_, week) =>
      new Date(Date.UTC(2026, 2, 9 + 7 * week)).toISOString().slice(0, 10),
    );
    expect(() => business('2026-03-06T10:00-05:00', 'P1D', { days: ['mon'], holidays: everyMonday })).toThrow(
      /no business day/,
    );
  });
});

describe('durationMillis', () => {
  it('measures fixed durations, a day as 24 hours', () => {
    expect(durationMillis('PT30S')).toBe(30_000);
    expect(durationMillis('P1DT1H')).toBe(25 * 3_600_000);
    expect(durationMillis('P1W')).toBe(7 * 86_400_000);
  });

  it('refuses months and years', () => {
    expect(() => durationMillis('P1M')).toThrow(RangeError);
  });
});

describe('localDate', () => {
  it('is the calendar date in the zone', () => {
    expect(localDate(at('2026-03-08T03:30Z'), NY)).toBe('2026-03-07');
    expect(localDate(at('2026-03-08T03:30Z'), 'Asia/Kolkata')).toBe('2026-03-08');
  });
});
