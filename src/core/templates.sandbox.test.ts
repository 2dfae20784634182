/**
 * Templates are a sandbox (issue 14): no tag reads a file, and rendering is bounded in parse
 * size, time, memory and output — both at validation and for a template stored before these
 * rules (rendered at run time without passing validation again).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderStepContent } from './content.ts';
import { sequenceDefinitionSchema } from './definition.ts';
import { renderTemplate, TEMPLATE_LIMITS, TemplateError, templateProblems } from './templates.ts';
import { validateDefinition } from './validate.ts';

const SECRET = 'touchpoint-sandbox-secret-7f3a';
const folder = mkdtempSync(join(tmpdir(), 'tp-sandbox-'));
const secretFile = join(folder, 'secret.liquid');
writeFileSync(secretFile, SECRET);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const scope = { lead: { firstName: 'Ana' }, sender: {}, sequence: { name: 'S' } };
const FILE_TAGS = [
  `{% include '${secretFile}' %}`,
  `{% render '${secretFile}' %}`,
  `{% layout '${secretFile}' %}Hi`,
  `{% include 'package.json' %}`,
  `{% render 'README.md' %}`,
  `{% if true %}{% include 'package.json' %}{% endif %}`,
  `{% liquid\n include 'package.json'\n%}`,
];
const NESTED_LOOP = '{% for i in (1..2500) %}{% for j in (1..2500) %}x{% endfor %}{% endfor %}';

function definitionWith(body: string) {
  return { name: 'Sandbox', steps: [{ id: 'intro', type: 'email', subject: 'Hi', body }] };
}

describe('templates never touch the file system', () => {
  it.each(FILE_TAGS)('a stored template with %s fails to render and reads nothing', (template) => {
    let output = '';
    try {
      output = renderTemplate(template, scope);
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as Error).message).not.toContain(SECRET);
      expect((error as Error).message).not.toContain('"name"');
      return;
    }
    expect.fail(`rendered without error: ${output.slice(0, 80)}`);
  });

  it('a stored definition (parsed without validation) with an include fails its step, never sends the file', () => {
    const definition = sequenceDefinitionSchema.parse(definitionWith("Hi {% render 'README.md' %}"));
    const step = definition.steps[0]!;
    if (step.type !== 'email') throw new Error('fixture');
    expect(() => renderStepContent(step, { lead: { id: 'l', firstName: 'Ana' }, definition })).toThrow(TemplateError);
  });

  it.each(FILE_TAGS)('validation rejects %s, naming the step and field', (template) => {
    const result = validateDefinition(definitionWith(template));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems.find((p) => p.path === '$.steps[0].body');
    expect(problem?.message).toMatch(/\{% (include|render|layout) %\}/);
    expect(problem?.message).toMatch(/file/);
  });
});

describe('rendering is bounded', () => {
  it('a nested loop of 2,500 × 2,500 stops at the render limit instead of blocking', () => {
    const started = performance.now();
    expect(() => renderTemplate(NESTED_LOOP, scope)).toThrow(/limit/);
    // The budget plus slack for a loaded machine; before the limit this took seconds.
    expect(performance.now() - started).toBeLessThan(TEMPLATE_LIMITS.renderMs * 10);
  });

  it('a template that doubles a string until memory runs out stops at the memory limit', () => {
    const doubling = "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size | default: 0 }}";
    expect(() => renderTemplate(doubling, scope)).toThrow(/memory/);
  });

  it('output longer than any message is refused', () => {
    const long = `{% for i in (1..${TEMPLATE_LIMITS.outputChars / 1000 + 1}) %}${'x'.repeat(1000)}{% endfor %}`;
    expect(() => renderTemplate(long, scope)).toThrow(/characters/);
  });

  it('validation rejects templates over a limit with the step and field', () => {
    const result = validateDefinition(definitionWith(NESTED_LOOP));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(expect.arrayContaining([expect.objectContaining({ path: '$.steps[0].body', message: expect.stringMatching(/limit/) })]));
  });

  it('validation rejects a template that does not parse', () => {
    expect(templateProblems('{% if %}')).toHaveLength(1);
    const result = validateDefinition(definitionWith('Hi {{ lead.firstName '));
    expect(result.ok).toBe(false);
  });

  it('ordinary templates pass and render as before', () => {
    expect(templateProblems('Hi {{ lead.firstName | default: "there" }}, {% if lead.company %}at {{ lead.company }}{% endif %}')).toEqual([]);
    expect(renderTemplate('Hi {{ lead.firstName }}', scope)).toBe('Hi Ana');
    const list = '{% for i in (1..200) %}{{ i }},{% endfor %}';
    expect(renderTemplate(list, scope).split(',')).toHaveLength(201);
  });
});
