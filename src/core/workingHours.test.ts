import { describe, expect, it } from 'vitest';
import { scheduleSchema } from './definition.ts';
import { DEFAULT_WORKING_SCHEDULE, memberScheduleSchema, taskDueAt, workingHoursOf } from './workingHours.ts';

const NY = { zone: 'America/New_York', schedule: DEFAULT_WORKING_SCHEDULE };
const at = (iso: string) => new Date(iso);

describe('taskDueAt', () => {
  it('is the task’s opening when it opens inside working hours and the step names no allowance', () => {
    // Tuesday 2026-03-03 10:00 EST
    expect(taskDueAt(at('2026-03-03T15:00:00Z'), NY).toISOString()).toBe('2026-03-03T15:00:00.000Z');
  });

  it('waits for the next working moment: a task opened on Saturday is due Monday 09:00', () => {
    expect(taskDueAt(at('2026-03-07T18:00:00Z'), NY).toISOString()).toBe('2026-03-09T13:00:00.000Z'); // 09:00 EDT
  });

  it('counts hours in working time, across a weekend and the spring-forward change', () => {
    // Friday 2026-03-06 16:00 EST + 2 working hours: 1 h on Friday, 1 h on Monday (EDT since Sunday) → 10:00 EDT
    expect(taskDueAt(at('2026-03-06T21:00:00Z'), NY, 'PT2H').toISOString()).toBe('2026-03-09T14:00:00.000Z');
  });

  it('ends exactly at the window’s close when the allowance fills it', () => {
    expect(taskDueAt(at('2026-03-03T14:00:00Z'), NY, 'PT8H').toISOString()).toBe('2026-03-03T22:00:00.000Z'); // 09:00 → 17:00 EST
  });

  it('counts days as working days at the same local time, over holidays and the fall-back change', () => {
    const hours = { zone: 'Europe/Berlin', schedule: scheduleSchema.parse({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', holidays: ['2026-10-26'] }) };
    // Friday 2026-10-23 11:00 CEST + P1D: Monday the 26th is a holiday, so Tuesday 11:00 CET (after the change on the 25th)
    expect(taskDueAt(at('2026-10-23T09:00:00Z'), hours, 'P1D').toISOString()).toBe('2026-10-27T10:00:00.000Z');
    // … and PT30M more is working time on Tuesday
    expect(taskDueAt(at('2026-10-23T09:00:00Z'), hours, 'P1DT30M').toISOString()).toBe('2026-10-27T10:30:00.000Z');
  });

  it('follows a night shift past midnight', () => {
    const hours = { zone: 'Asia/Tokyo', schedule: scheduleSchema.parse({ start: '22:00', end: '06:00' }) };
    // 2026-05-01 23:00 JST + PT4H → 03:00 JST the next morning, inside the same window
    expect(taskDueAt(at('2026-05-01T14:00:00Z'), hours, 'PT4H').toISOString()).toBe('2026-05-01T18:00:00.000Z');
  });
});

describe('workingHoursOf', () => {
  it('takes the member’s own zone and schedule first, then the workspace’s, then Monday–Friday 09:00–17:00', () => {
    const own = { days: ['sat'], start: '10:00', end: '12:00' };
    expect(workingHoursOf({ timezone: 'Asia/Tokyo', schedule: own }, { timezone: 'UTC' }).schedule.days).toEqual(['sat']);
    expect(workingHoursOf({ timezone: 'Asia/Tokyo' }, { timezone: 'UTC' }).zone).toBe('Asia/Tokyo');
    const workspace = { timezone: 'Europe/Paris', defaultSchedule: { start: '08:00', end: '18:00' } };
    expect(workingHoursOf({}, workspace)).toMatchObject({ zone: 'Europe/Paris', schedule: { start: '08:00', end: '18:00' } });
    expect(workingHoursOf({ timezone: 'Not/AZone' }, { timezone: 'Europe/Paris' })).toEqual({ zone: 'Europe/Paris', schedule: DEFAULT_WORKING_SCHEDULE });
  });

  it('refuses a member schedule that carries its own zone', () => {
    expect(memberScheduleSchema.safeParse({ timezone: 'Europe/Paris' }).success).toBe(false);
    expect(memberScheduleSchema.safeParse({ days: ['mon'], start: '09:00', end: '12:00' }).success).toBe(true);
  });
});
