import { describe, expect, it } from 'vitest';
import { sequenceDefinitionSchema } from './definition.ts';
import { startingDefinition, withWorkspaceDefaults } from './workspaceDefaults.ts';

const none = { defaultSchedule: null, defaultQuietHours: null, holidays: [] };
const schedule = { timezone: 'lead', days: ['mon', 'tue'], start: '09:00', end: '17:00', holidays: ['2026-01-01'] };
const quiet = { start: '20:00', end: '09:00', channels: ['sms'] };

describe('withWorkspaceDefaults', () => {
  it('changes nothing for a workspace without defaults or holidays', () => {
    const definition = { name: 'x', steps: [] };
    expect(withWorkspaceDefaults(definition, none)).toEqual(definition);
  });

  it('fills what is absent, joins holidays without duplicates, and keeps what is written', () => {
    const ws = { defaultSchedule: schedule, defaultQuietHours: quiet, holidays: ['2026-12-25', '2026-01-01'] };
    expect(withWorkspaceDefaults({ name: 'x' }, ws)).toEqual({ name: 'x', schedule: { ...schedule, holidays: ['2026-01-01', '2026-12-25'] }, quietHours: quiet });
    const own = { days: ['fri'] };
    expect(withWorkspaceDefaults({ name: 'x', schedule: own, quietHours: { start: '23:00' } }, ws)).toEqual({
      name: 'x',
      schedule: { days: ['fri'], holidays: ['2026-01-01', '2026-12-25'] },
      quietHours: { start: '23:00' },
    });
    expect(withWorkspaceDefaults({ name: 'x', schedule: { holidays: [] } }, ws).schedule).toEqual({ holidays: [] });
  });

  it('puts the workspace holidays on the built-in window when there is no default schedule, and the result parses', () => {
    const filled = withWorkspaceDefaults({ name: 'x', steps: [{ id: 'done', type: 'end' }] }, { ...none, holidays: ['2026-12-25'] });
    expect(filled.schedule).toEqual({ holidays: ['2026-12-25'] });
    expect(sequenceDefinitionSchema.parse(filled).schedule).toMatchObject({ start: '08:00', end: '21:00', holidays: ['2026-12-25'] });
  });

  it('does not share objects with the workspace (an edit of the draft cannot edit the settings)', () => {
    const ws = { defaultSchedule: schedule, defaultQuietHours: quiet, holidays: [] };
    const filled = withWorkspaceDefaults({ name: 'x' }, ws);
    expect(filled.schedule).not.toBe(schedule);
    expect(filled.quietHours).not.toBe(quiet);
  });
});

describe('startingDefinition', () => {
  const template = { name: 't', schedule: { days: ['mon'], start: '07:00', end: '08:00' }, quietHours: { start: '21:00' }, steps: [] };
  it("replaces a template's window and quiet hours by the workspace's, and keeps them without defaults", () => {
    expect(startingDefinition(template, { defaultSchedule: schedule, defaultQuietHours: quiet, holidays: [] })).toEqual({ name: 't', steps: [], schedule, quietHours: quiet });
    expect(startingDefinition(template, none)).toEqual(template);
    expect(startingDefinition(template, { ...none, holidays: ['2026-12-25'] }).schedule).toEqual({ ...template.schedule, holidays: ['2026-12-25'] });
  });
});
