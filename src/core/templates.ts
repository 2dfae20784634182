/**
 * Liquid templates for step content. A variable that is missing (undefined, null or empty)
 * without a `default` filter is an error, never a blank in a message a lead reads.
 */
import { Liquid } from 'liquidjs';
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

/** Names of variables a template prints without a `default` and that are blank for this scope. */
export function missingVariables(template: string, scope: TemplateScope): string[] {
  const missing: string[] = [];
  for (const token of liquid.parse(template)) {
    // Only top-level outputs: one inside `{% if %}` is guarded by its condition.
    const output = token as unknown as { value?: { filters?: { name: string }[]; initial?: { postfix?: unknown[] } } };
    const filters = output.value?.filters;
    const postfix = output.value?.initial?.postfix;
    if (!filters || !postfix || filters.some((f) => f.name === 'default')) continue;
    if (postfix.length !== 1) continue;
    const text = (postfix[0] as { getText?: () => string }).getText?.();
    if (!text || !/^[A-Za-z_][\w.[\]'"-]*$/.test(text)) continue;
    const value = liquid.evalValueSync(text, scope);
    if (value === undefined || value === null || value === '') missing.push(text);
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
