/**
 * Liquid templates for step content. A variable that is missing (undefined, null or empty)
 * without a `default` filter is an error, never a blank in a message a lead reads.
 *
 * Templates are a sandbox (docs/SEQUENCES.md, "Templates are a sandbox"): the tags that load
 * other templates (`include`, `render`, `layout`) are refused when a template is parsed, and the
 * engine has no file system to load from anyway (an empty in-memory template map), so a
 * template stored before these rules still reads nothing. Parsing, render time, memory and
 * output are bounded, so one template cannot hold up a worker.
 */
import { Context, Liquid, Tag, toValueSync, Value, type TagToken, type TopLevelToken } from 'liquidjs';
import type { Lead } from './definition.ts';

/** Limits no real message comes near (a long email renders in well under a millisecond). */
export const TEMPLATE_LIMITS = {
  /** Characters parsed per template: the definition schema's own limit on a template field. */
  parseChars: 20_000,
  /** Wall time per render, measured by liquidjs itself. */
  renderMs: 200,
  /** liquidjs's allocation units (characters of strings built, items of ranges and arrays). */
  memory: 1_000_000,
  /** Characters of rendered output; an email body is a few thousand. */
  outputChars: 100_000,
} as const;

/** Tags that load another template by name, i.e. from a file. */
export const FILE_TAGS = ['include', 'render', 'layout'] as const;

export function fileTagMessage(tag: string): string {
  return `the {% ${tag} %} tag is not allowed: templates cannot load other templates or files; write the text into this template instead`;
}

function refusedTag(name: string) {
  return class RefusedFileTag extends Tag {
    constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
      super(token, remainTokens, liquid);
      throw new Error(fileTagMessage(name));
    }
    render(): void {
      throw new Error(fileTagMessage(name));
    }
  };
}

const options = {
  strictFilters: true,
  ownPropertyOnly: true,
  cache: 500,
  // No file system: every lookup goes to this empty map and fails; nothing is ever read.
  templates: {},
  relativeReference: false,
  dynamicPartials: false,
  parseLimit: TEMPLATE_LIMITS.parseChars,
  renderLimit: TEMPLATE_LIMITS.renderMs,
  memoryLimit: TEMPLATE_LIMITS.memory,
};
const liquid = new Liquid(options);
/**
 * The same engine for HTML bodies (`format: "html"` or `"markdown"`): every output is
 * HTML-escaped, so a lead's `<script>` or `&` arrives as text. The author's own markup is the
 * template itself and is never touched; `| raw` prints a value unescaped on purpose.
 */
const htmlLiquid = new Liquid({ ...options, outputEscape: 'escape' });
for (const tag of FILE_TAGS) {
  liquid.registerTag(tag, refusedTag(tag));
  htmlLiquid.registerTag(tag, refusedTag(tag));
}

/** `text`: outputs as they are; `html`: outputs HTML-escaped (bodies that become HTML). */
export type RenderMode = 'text' | 'html';

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

/**
 * A path with a quoted key that holds spaces, `lead.custom["Deal Size"]` (CSV headers keep theirs,
 * and the step editor's picker writes them so): checked like any other variable, never sent blank.
 */
const QUOTED_KEY_PATH = /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[(?:"[^"\\]*"|'[^'\\]*'|\d+)\])*$/;

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
    if (!text || !(/^[A-Za-z_][\w.[\]'"-]*$/.test(text) || QUOTED_KEY_PATH.test(text))) continue;
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

export function renderTemplate(template: string, scope: TemplateScope, mode: RenderMode = 'text'): string {
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
  return renderBounded(template, scope, mode);
}

/**
 * For a person to read, not to send (a task's title and description): a variable the lead
 * lacks prints empty rather than refusing, and a template that cannot render is shown as written.
 */
export function renderForReading(template: string, scope: TemplateScope): string {
  try {
    return renderBounded(template, scope);
  } catch {
    return template;
  }
}

/**
 * For a preview of a draft: a variable the lead lacks prints empty (the caller lists it from
 * `missingVariables`), while a template that does not parse or goes over a limit still throws
 * `TemplateError`, as it would at send time.
 */
export function renderWithBlanks(template: string, scope: TemplateScope, mode: RenderMode = 'text'): string {
  try {
    printedVariables(template);
  } catch (error) {
    throw new TemplateError(`The template does not parse: ${(error as Error).message}`, []);
  }
  return renderBounded(template, scope, mode);
}

/** Renders within the limits; anything over one is a `TemplateError` that names the limit. */
function renderBounded(template: string, scope: object, mode: RenderMode = 'text'): string {
  let output: string;
  try {
    output = (mode === 'html' ? htmlLiquid : liquid).parseAndRenderSync(template, scope);
  } catch (error) {
    throw new TemplateError(`The template cannot be rendered: ${limitSentence((error as Error).message)}`, []);
  }
  if (output.length > TEMPLATE_LIMITS.outputChars) {
    throw new TemplateError(
      `The template renders ${output.length} characters, more than the ${TEMPLATE_LIMITS.outputChars} a message may have; shorten it or bound its loops.`,
      [],
    );
  }
  return output;
}

/** liquidjs says "template render limit exceeded"; say which limit and what to do. */
function limitSentence(message: string): string {
  if (/render limit exceeded/.test(message)) {
    return `${message} (rendering took over ${TEMPLATE_LIMITS.renderMs} ms; bound its loops)`;
  }
  if (/memory alloc limit exceeded/.test(message)) {
    return `${message} (it builds more than ${TEMPLATE_LIMITS.memory} characters or items; bound its loops and ranges)`;
  }
  return message;
}

/**
 * Why a template can never be sent, judged without a lead: it does not parse, uses a tag that
 * loads a file, or goes over a limit when rendered with every variable blank (a constant loop
 * of 2,500 × 2,500 does). Sentences for the validator; empty when the template is fine.
 */
export function templateProblems(template: string): string[] {
  let problems = judgedTemplates.get(template);
  if (problems === undefined) {
    problems = judgeTemplate(template);
    if (judgedTemplates.size >= MAX_PARSED_TEMPLATES) judgedTemplates.clear();
    judgedTemplates.set(template, problems);
  }
  return problems;
}

/** Verdicts by template text: enrollment asks again for the same few templates on every call. */
const judgedTemplates = new Map<string, string[]>();

function judgeTemplate(template: string): string[] {
  try {
    liquid.parse(template);
  } catch (error) {
    const message = (error as Error).message;
    const tag = FILE_TAGS.find((name) => message.includes(fileTagMessage(name)));
    if (tag) return [`The template uses {% ${tag} %}, which would read a file; templates cannot load other templates or files, so write the text into this template instead.`];
    if (/parse length limit exceeded/.test(message)) {
      return [`The template is longer than the ${TEMPLATE_LIMITS.parseChars} characters a template may have; shorten it.`];
    }
    return [`The template does not parse: ${message.replace(/\s+/g, ' ').slice(0, 300)}; check its {{ }} and {% %} tags.`];
  }
  try {
    renderBounded(template, { lead: {}, sender: {}, sequence: {} });
  } catch (error) {
    const message = (error as Error).message;
    if (/limit exceeded|characters, more than/.test(message)) return [`${message.replace(/\.$/, '')}.`];
  }
  return [];
}
