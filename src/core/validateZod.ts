/**
 * Turns zod 4 issues into one-sentence problems with JSON paths. Zod's own messages are terse
 * ("Invalid input"); a person fixing a sequence needs the field, the value and the fix.
 */
import { z } from 'zod';
import {
  closest,
  describeValue,
  fieldLabel,
  listOf,
  lookup,
  problem,
  quote,
  valueSubject,
  type Path,
  type Problem,
} from './validateFormat.ts';

type Issue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

function expectedPhrase(expected: string): string {
  return EXPECTED[expected] ?? `a ${expected}`;
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let i = 0; i < 10; i++) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current.unwrap();
    else return current;
  }
  return current;
}

/** Field names of the object schema at `path`, to suggest the intended one for a typo. */
export function knownFields(schema: unknown, path: readonly PropertyKey[]): string[] {
  let current = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject && typeof segment === 'string') {
      const shape = current.shape as Record<string, unknown>;
      current = Object.prototype.hasOwnProperty.call(shape, segment) ? unwrap(shape[segment]) : undefined;
    } else if (current instanceof z.ZodArray) {
      current = unwrap(current.element);
    } else {
      return [];
    }
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : [];
}

export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  if (guess) return `Unknown field ${quote(key)}; did you mean "${guess}"?`;
  if (known.length === 0) return `Unknown field ${quote(key)}; remove it.`;
  return `Unknown field ${quote(key)}; remove it or use one of ${known.join(', ')}.`;
}

export function unknownValueMessage(path: Path, value: unknown, allowed: readonly string[]): string {
  if (typeof value !== 'string') {
    return `${fieldLabel(path).text} must be one of ${listOf(allowed)}, not ${describeValue(value)}.`;
  }
  const guess = closest(value, allowed);
  const hint = guess ? `did you mean "${guess}"? Use` : 'use';
  return `${valueSubject(path, value)} is not known; ${hint} one of ${listOf(allowed)}.`;
}

interface Context {
  /** The raw value handed to `safeParse`, to read the offending value back by path. */
  input: unknown;
  schema: unknown;
  prefix: Path;
}

/** Zod reports a wrong-typed union member per branch; keep the branch that got furthest. */
function unionProblems(issue: Extract<Issue, { code: 'invalid_union' }>, ctx: Context): Problem[] {
  const here = issue.path;
  const isShallow = (inner: Issue) => inner.path.length === 0 && (inner.code === 'invalid_type' || inner.code === 'invalid_value');
  const deep = issue.errors.find((branch) => branch.length > 0 && !branch.some(isShallow));
  if (deep) return deep.flatMap((inner) => convertIssue({ ...inner, path: [...here, ...inner.path] } as Issue, ctx));
  const options = issue.errors.flatMap((branch) =>
    branch.filter((inner) => inner.path.length === 0).map((inner) =>
      inner.code === 'invalid_value' ? inner.values.map((v) => JSON.stringify(v)).join(' or ') : inner.code === 'invalid_type' ? expectedPhrase(inner.expected) : '',
    ),
  );
  const unique = [...new Set(options.filter(Boolean))];
  const value = lookup(ctx.input, here).value;
  const label = fieldLabel(here).text;
  if (unique.length === 0) return [problem([...ctx.prefix, ...here], `${label} is not valid here.`)];
  return [problem([...ctx.prefix, ...here], `${label} must be ${unique.join(' or ')}, not ${describeValue(value)}.`)];
}

function sizeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, path: Path, value: unknown): string {
  const label = fieldLabel(path).text;
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === 'string') {
    if (small && limit <= 1) return `${label} must not be empty.`;
    const length = typeof value === 'string' ? value.length : 0;
    return small
      ? `${label} is too short (${length} characters); use at least ${limit}.`
      : `${label} is too long (${length} characters); shorten it to at most ${limit}.`;
  }
  if (issue.origin === 'array') {
    const length = Array.isArray(value) ? value.length : 0;
    return small
      ? `${label} must list at least ${limit} ${limit === 1 ? 'entry' : 'entries'}.`
      : `${label} lists ${length} entries; at most ${limit} are allowed.`;
  }
  return `${label} must be at ${small ? 'least' : 'most'} ${limit}, not ${describeValue(value)}.`;
}

/** Schema messages are written as predicates ("must be …", "is not …") to follow the value. */
function predicateMessage(path: Path, value: unknown, message: string): string {
  const predicate = /^(must|is|are|should) /.test(message) ? message : `is not valid: ${message}`;
  const subject = typeof value === 'string' ? valueSubject(path, value) : `${fieldLabel(path).text} (${describeValue(value)})`;
  return `${subject} ${predicate.replace(/\.$/, '')}.`;
}

function convertIssue(issue: Issue, ctx: Context): Problem[] {
  const path = issue.path as Path;
  const full = [...ctx.prefix, ...path];
  const { found, value } = lookup(ctx.input, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownFields(ctx.schema, path);
      return issue.keys.map((key) => problem([...full, key], unknownFieldMessage(key, known)));
    }
    case 'invalid_type': {
      const last = path[path.length - 1];
      if (!found && path.length > 0 && typeof last === 'string') {
        return [problem(full, `Missing required field ${quote(last)}; add it as ${expectedPhrase(issue.expected)}.`)];
      }
      return [problem(full, `${fieldLabel(path).text} must be ${expectedPhrase(issue.expected)}, not ${describeValue(value)}.`)];
    }
    case 'invalid_value':
      return [problem(full, unknownValueMessage(path, value, issue.values.map(String)))];
    case 'too_small':
    case 'too_big':
      return [problem(full, sizeMessage(issue, path, value))];
    case 'invalid_format': {
      const message = issue.format === 'email' ? 'is not a valid email address such as "ana@example.com"' : issue.message;
      return [problem(full, predicateMessage(path, value, message))];
    }
    case 'custom':
      return [problem(full, predicateMessage(path, value, issue.message))];
    case 'invalid_union':
      return unionProblems(issue, ctx);
    default:
      return [problem(full, `${fieldLabel(path).text} is not valid: ${issue.message.replace(/\s+/g, ' ')}.`)];
  }
}

export function issuesToProblems(issues: readonly Issue[], ctx: Context): Problem[] {
  return issues.flatMap((issue) => convertIssue(issue, ctx));
}

/** Runs a schema and converts its issues; `prefix` places the value inside the whole document. */
export function check(schema: z.ZodType, input: unknown, prefix: Path): Problem[] {
  const result = schema.safeParse(input);
  return result.success ? [] : issuesToProblems(result.error.issues, { input, schema, prefix });
}
