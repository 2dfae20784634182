import { describe, expect, it } from 'vitest';
import { completeTaskPayload, needsTaskTitle } from './taskPayloads.ts';

const definition = {
  name: 'Tasks',
  steps: [{ id: 'call', type: 'task', title: 'Call {{ lead.firstName }} about {{ lead.plan }}', description: 'Company: {{ lead.company }}', outcomes: ['done'] }],
};
const payload = (title: string | null = null, sequenceId = '00000000-0000-4000-8000-000000000001') => ({
  type: 'task.created',
  timestamp: '2026-03-04T15:00:00.000Z',
  data: {
    stepId: 'call', sequenceId, sequenceVersion: 1, title, description: null,
    lead: { id: 'l1', email: 'ana@acme.test', phone: null, externalId: null, firstName: 'Ana', lastName: null, company: 'Acme' },
  },
});
const lead = { id: 'l1', email: 'ana@acme.test', phone: null, firstName: 'Ana', lastName: null, company: 'Acme', title: null, timezone: null, customFields: { plan: 'pro' } };

describe('task.created payloads', () => {
  it('are completed once: a payload that has its title is left alone', () => {
    expect(needsTaskTitle('task.created', payload())).toBe(true);
    expect(needsTaskTitle('task.created', payload('Call Ana'))).toBe(false);
    expect(needsTaskTitle('task.completed', payload())).toBe(false);
  });

  it('render the title and description for the lead as it stands, custom fields included', () => {
    expect(completeTaskPayload(payload(), { definition, lead }).data).toMatchObject({ title: 'Call Ana about pro', description: 'Company: Acme' });
  });

  it('fall back to what the payload names of a deleted lead, and to the step id without a definition', () => {
    expect(completeTaskPayload(payload(), { definition, lead: null }).data).toMatchObject({ title: 'Call Ana about', description: 'Company: Acme' });
    expect(completeTaskPayload(payload(), { definition: null, lead }).data).toMatchObject({ title: 'call', description: null });
    // (A version's parsed definition is cached by sequence and version: another sequence here.)
    expect(completeTaskPayload(payload(null, '00000000-0000-4000-8000-000000000002'), { definition: { nonsense: true }, lead }).data).toMatchObject({ title: 'call', description: null });
  });
});
