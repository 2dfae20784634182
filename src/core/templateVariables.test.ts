import { describe, expect, it } from 'vitest';
import { renderDraftContent, renderStepContent } from './content.ts';
import type { SequenceDefinition } from './definition.ts';
import { customFieldPath, customFieldVariables, insertAt, LEAD_VARIABLES, SENDER_VARIABLES, SEQUENCE_VARIABLES, variableTag } from './templateVariables.ts';

const lead = {
  id: 'l1',
  email: 'ada@acme.test',
  phone: '+14155550123',
  timezone: 'Europe/London',
  firstName: 'Ada',
  lastName: 'Lovelace',
  company: 'Acme',
  title: 'CTO',
  customFields: { industry: 'Rail', 'Deal Size': '12k' },
};

describe('the variable picker', () => {
  it('writes the Liquid that prints a variable, with a fallback in a quote it does not hold', () => {
    expect(variableTag('lead.firstName')).toBe('{{ lead.firstName }}');
    expect(variableTag('lead.firstName', 'there')).toBe('{{ lead.firstName | default: "there" }}');
    expect(variableTag('lead.company', 'your "team"')).toBe(`{{ lead.company | default: 'your "team"' }}`);
    expect(variableTag('lead.company', `it's "x"`)).toBe(`{{ lead.company | default: "it's x" }}`);
  });

  it('reaches custom fields under lead.custom, quoting names that are not identifiers', () => {
    expect(customFieldPath('industry')).toBe('lead.custom.industry');
    expect(customFieldPath('Deal Size')).toBe('lead.custom["Deal Size"]');
    expect(customFieldVariables(['email'])[0]).toEqual({ path: 'lead.custom.email', label: 'email', group: 'Custom fields' });
  });

  it('inserts at the cursor or over the selection', () => {
    expect(insertAt('Hi !', '{{ x }}', 3)).toEqual({ text: 'Hi {{ x }}!', cursor: 10 });
    expect(insertAt('Hi NAME!', '{{ x }}', 3, 7)).toEqual({ text: 'Hi {{ x }}!', cursor: 10 });
    expect(insertAt('Hi', '!', 99)).toEqual({ text: 'Hi!', cursor: 3 });
  });

  it('offers only variables the template scope really has: each one renders for a full lead', () => {
    const variables = [...LEAD_VARIABLES, ...customFieldVariables(Object.keys(lead.customFields)), ...SENDER_VARIABLES, ...SEQUENCE_VARIABLES];
    for (const variable of variables) {
      const step = { id: 's', type: 'sms' as const, text: variableTag(variable.path), useAiWriter: false };
      const { content, missing } = renderDraftContent(step, {
        lead,
        sender: { name: 'Bob', email: 'bob@us.test', phone: '+14155550100' },
        sequence: { name: 'Intro', description: 'First touch' },
      });
      expect(missing, variable.path).toEqual([]);
      expect(content.text, variable.path).not.toBe('');
    }
  });

  it('checks a custom field whose name has a space like any other: listed as missing, never sent blank', () => {
    const step = { id: 's', type: 'sms' as const, text: `Deal: ${variableTag(customFieldPath('Deal Size'))}`, useAiWriter: false };
    expect(renderDraftContent(step, { lead }).missing).toEqual([]);
    expect(renderDraftContent(step, { lead: { id: 'l2', customFields: { industry: 'x' } } }).missing).toEqual(['lead.custom["Deal Size"]']);
    expect(() => renderStepContent(step, { lead: { id: 'l2' }, definition: { name: 'x' } as SequenceDefinition })).toThrow(/"lead.custom\["Deal Size"\]"/);
  });

  it('renders a fallback the picker wrote when the lead lacks the field', () => {
    const step = { id: 's', type: 'sms' as const, text: `Hi ${variableTag('lead.firstName', 'there')}`, useAiWriter: false };
    expect(renderDraftContent(step, { lead: { id: 'l2' } }).content.text).toBe('Hi there');
  });
});
