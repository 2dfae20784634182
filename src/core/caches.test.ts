/**
 * The memos on enrolling's hot path (zone validity, parsed templates) answer exactly what the
 * uncached calls answer, the first time and every time after.
 */
import { IANAZone } from 'luxon';
import { describe, expect, it, vi } from 'vitest';
import { missingVariablesForLead } from './content.ts';
import { isValidZone, MAX_REMEMBERED_ZONES, type Lead, type SequenceDefinition } from './definition.ts';
import { missingVariables, renderTemplate, TemplateError, VariableScope } from './templates.ts';
import { validateDefinition } from './validate.ts';

describe('isValidZone (remembered per name)', () => {
  it('keeps a valid zone valid and an invalid one invalid, asking luxon once per name', () => {
    const spy = vi.spyOn(IANAZone, 'isValidZone');
    try {
      for (let i = 0; i < 3; i++) {
        expect(isValidZone('Pacific/Chatham')).toBe(true);
        expect(isValidZone('Mars/Olympus_Mons_cache_test')).toBe(false);
        expect(isValidZone('')).toBe(false);
      }
      const asked = spy.mock.calls.map(([zone]) => zone);
      expect(asked.filter((z) => z === 'Pacific/Chatham').length).toBeLessThanOrEqual(1);
      expect(asked.filter((z) => z === 'Mars/Olympus_Mons_cache_test').length).toBeLessThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('still answers correctly after the memo fills and starts over', () => {
    for (let i = 0; i <= MAX_REMEMBERED_ZONES; i++) expect(isValidZone(`Nowhere/Zone_${i}`)).toBe(false);
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('Nowhere/Zone_0')).toBe(false);
    expect(isValidZone('America/New_York')).toBe(true);
  });
});

describe('missingVariables (templates parsed once)', () => {
  const template = 'Hi {{ lead.firstName }} from {{ lead.company }}, {{ lead.title | default: "friend" }}';

  it('answers per scope, whether the template was parsed before or not', () => {
    const full = { lead: { firstName: 'Ada', company: 'Acme' }, sender: {}, sequence: {} };
    const blank = { lead: { firstName: '', company: null }, sender: {}, sequence: {} };
    for (let i = 0; i < 2; i++) {
      expect(missingVariables(template, full)).toEqual([]);
      expect(missingVariables(template, blank)).toEqual(['lead.firstName', 'lead.company']);
      expect(missingVariables(template, new VariableScope(blank))).toEqual(['lead.firstName', 'lead.company']);
    }
  });

  it('a scope shared by several templates answers each one the same as a fresh scope', () => {
    const scope = { lead: { firstName: 'Ada' }, sender: {}, sequence: {} };
    const shared = new VariableScope(scope);
    for (const t of ['{{ lead.firstName }}', '{{ lead.lastName }} {{ lead.firstName }}', 'none here']) {
      expect(missingVariables(t, shared)).toEqual(missingVariables(t, scope));
    }
  });

  it('a template that does not parse keeps failing, and rendering keeps saying so', () => {
    const broken = 'Hi {{ lead.firstName ';
    const scope = { lead: { firstName: 'Ada' }, sender: {}, sequence: {} };
    for (let i = 0; i < 2; i++) {
      expect(() => missingVariables(broken, scope)).toThrow();
      expect(() => renderTemplate(broken, scope)).toThrow(TemplateError);
      expect(() => renderTemplate(broken, scope)).toThrow(/does not parse/);
    }
  });
});

describe('missingVariablesForLead', () => {
  const result = validateDefinition({
    name: 'cache test',
    steps: [
      { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello {{ lead.firstName }} at {{ lead.company }}' },
      { id: 'text', type: 'sms', text: '{{ lead.firstName }}, {{ lead.custom.plan }}' },
    ],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const definition: SequenceDefinition = result.definition;

  it('lists each blank variable once, in template order, per lead', () => {
    const cases: Array<[Lead, string[]]> = [
      [{ id: '1', firstName: 'Ada', company: 'Acme', customFields: { plan: 'pro' } }, []],
      [{ id: '2', firstName: null, company: 'Acme', customFields: { plan: 'pro' } }, ['lead.firstName']],
      [{ id: '3', firstName: '', company: '', customFields: {} }, ['lead.firstName', 'lead.company', 'lead.custom.plan']],
    ];
    for (let i = 0; i < 2; i++) {
      for (const [lead, missing] of cases) expect(missingVariablesForLead(definition, lead)).toEqual(missing);
    }
  });
});
