/**
 * Liquid templates for step content. A variable that is missing (undefined, null or empty)
 * without a `default` filter is an error, never a blank in a message a lead reads.
 */
import { Context, Liquid, toValueSync, Value } from 'liquidjs';
import type { Lead } from './definition.ts';

const liquid = new Liquid({ strictFilters: true, ownPropertyOnly: true, cache: 500 });

export interface TemplateScope {
  lead: Record<string, unknown>;
  sender: Record<string, unknown>;
  sequence: Record<string, unknown>;
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

export function leadScope(lead: Lead): Record<string, unknown> {
  return {
    id: lead.id,
    email: lead.email ?? undefined,
    phone: lead.phone ?? undefined,
    timezone: lead.timezone ?? undefined,
    firstName: lead.firstName ?? undefined,
    lastName: lead.lastName ?? undefined,
    company: lead.company ?? undefined,
    title: lead.title ?? undefined,
    ...(lead.customFields ?? {}),
    custom: lead.customFields ?? {},
  };
}

/** A variable a template prints at top level without a `default`, its expression compiled once. */
interface PrintedVariable {
  text: string;
  value: Value;
}

/**
 * Parsed templates, by their text: the variables each prints, or why it does not parse.
 * Parsing is what checking a lead's variables costs, and a sequence's templates are few, so
 * enrolling many leads (and running many steps) parses each template once. Bounded: when full
 * it starts over.
 */
const parsedTemplates = new Map<string, { variables: PrintedVariable[] } | { error: unknown }>();
export const MAX_PARSED_TEMPLATES = 500;

function printedVariables(template: string): PrintedVariable[] {
  let parsed = parsedTemplates.get(template);
  if (parsed === undefined) {
    try {
      parsed = { variables: parsePrintedVariables(template) };
    } catch (error) {
      parsed = { error };
    }
    if (parsedTemplates.size >= MAX_PARSED_TEMPLATES) parsedTemplates.clear();
    parsedTemplates.set(template, parsed);
  }
  if ('error' in parsed) throw parsed.error;
  return parsed.variables;
}

function parsePrintedVariables(template: string): PrintedVariable[] {
  const variables: PrintedVariable[] = [];
  for (const token of liquid.parse(template)) {
    // Only top-level outputs: one inside `{% if %}` is guarded by its condition.
    const output = token as unknown as { value?: { filters?: { name: string }[]; initial?: { postfix?: unknown[] } } };
    const filters = output.value?.filters;
    const postfix = output.value?.initial?.postfix;
    if (!filters || !postfix || filters.some((f) => f.name === 'default')) continue;
    if (postfix.length !== 1) continue;
    const text = (postfix[0] as { getText?: () => string }).getText?.();
    if (!text || !/^[A-Za-z_][\w.[\]'"-]*$/.test(text)) continue;
    variables.push({ text, value: new Value(text, liquid) });
  }
  return variables;
}

/**
 * A scope ready for looking up variables: make one per lead and check all its templates with
 * it. A variable several templates print (`lead.firstName` in a subject, a body and an SMS) is
 * looked up once.
 */
export class VariableScope {
  readonly context: Context;
  readonly blank = new Map<string, boolean>();
  constructor(scope: TemplateScope) {
    this.context = new Context(scope, liquid.options, {}, { liquid });
  }
}

/** Names of variables a template prints without a `default` and that are blank for this scope. */
export function missingVariables(template: string, scope: TemplateScope | VariableScope): string[] {
  const variables = printedVariables(template);
  const missing: string[] = [];
  if (variables.length === 0) return missing;
  const lookup = scope instanceof VariableScope ? scope : new VariableScope(scope);
  for (const variable of variables) {
    let blank = lookup.blank.get(variable.text);
    if (blank === undefined) {
      const value: unknown = toValueSync(variable.value.value(lookup.context));
      blank = value === undefined || value === null || value === '';
      lookup.blank.set(variable.text, blank);
    }
    if (blank) missing.push(variable.text);
  }
  return missing;
}

export function renderTemplate(template: string, scope: TemplateScope): string {
  let missing: string[];
  try {
    missing = missingVariables(template, scope);
  } catch (error) {
    throw new TemplateError(`The template does not parse: ${(error as Error).message}`, []);
  }
  if (missing.length > 0) {
    throw new TemplateError(
      `The template uses ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} empty for this lead; fill ${missing.length === 1 ? 'it' : 'them'} in or add a default, e.g. {{ ${missing[0]} | default: "there" }}.`,
      missing,
    );
  }
  try {
    return liquid.parseAndRenderSync(template, scope);
  } catch (error) {
    throw new TemplateError(`The template cannot be rendered: ${(error as Error).message}`, []);
  }
}
