/** Shared test documents for the validator's tests (not shipped code). */
import { expect } from 'vitest';
import { validateDefinition, type Problem } from './validate.ts';

/** The example from DESIGN.md, "Sequence definition", verbatim. */
export const designExample = {
  name: 'Demo request follow-up',
  schedule: {
    timezone: 'lead',
    fallbackTimezone: 'America/New_York',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '09:00',
    end: '17:00',
    holidays: ['2026-12-25'],
  },
  quietHours: { start: '21:00', end: '08:00', channels: ['sms', 'voice'] },
  exitOn: ['email.replied', 'sms.replied', 'email.bounced', 'sms.opted_out', 'converted'],
  onError: 'continue',
  steps: [
    {
      id: 'intro',
      type: 'email',
      subject: "Quick question, {{ lead.firstName | default: 'there' }}",
      body: 'Hi {{ lead.firstName }}, …',
      useAiWriter: false,
    },
    { id: 'pause', type: 'wait', duration: 'P2D', businessDays: true },
    { id: 'opened', type: 'branch', when: { event: 'email.opened', step: 'intro' }, within: 'P1D', then: 'call', else: 'nudge' },
    { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName }}, …', voicemail: '…' },
    { id: 'outcome', type: 'branch', when: { outcome: ['connected', 'meeting_booked'] }, within: 'PT4H', then: 'done', else: 'nudge' },
    { id: 'nudge', type: 'sms', text: 'Hi {{ lead.firstName }} …' },
    { id: 'linkedin', type: 'task', title: 'Connect on LinkedIn', outcomes: ['done', 'skipped'] },
    { id: 'done', type: 'end' },
  ],
};

export const email = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'email', subject: 'Hi', body: 'Hello', ...extra });
export const sms = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'sms', text: 'Hi', ...extra });
export const wait = (id: string, duration = 'P1D', extra: Record<string, unknown> = {}) => ({ id, type: 'wait', duration, ...extra });
export const branch = (id: string, then: string, otherwise: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'branch',
  when: { event: 'email.opened' },
  within: 'P1D',
  then,
  else: otherwise,
  ...extra,
});

export const withSteps = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'Test', steps, ...extra });

export function problemsOf(input: unknown): Problem[] {
  const result = validateDefinition(input);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return result.problems;
}

export function warningsOf(input: unknown): Problem[] {
  const result = validateDefinition(input);
  if (!result.ok) throw new Error(`expected the definition to pass, got: ${JSON.stringify(result.problems)}`);
  return result.warnings;
}

/** Exactly one problem at `path`, whose message contains every fragment. */
export function expectProblem(problems: Problem[], path: string, ...fragments: string[]): void {
  const at = problems.filter((p) => p.path === path);
  expect(at, `problems at ${path} in ${JSON.stringify(problems, null, 1)}`).toHaveLength(1);
  for (const fragment of fragments) expect(at[0]!.message).toContain(fragment);
}
