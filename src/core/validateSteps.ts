/**
 * Per-step structure: each step is checked on its own so one broken step does not hide the
 * problems of the others, and an unknown `type` gets a useful sentence instead of zod's
 * "no matching discriminator".
 */
import { z } from 'zod';
import {
  branchStepSchema,
  conditionSchema,
  emailStepSchema,
  endStepSchema,
  smsStepSchema,
  STEP_ID_PATTERN,
  STEP_TYPES,
  taskStepSchema,
  voiceStepSchema,
  waitStepSchema,
  type StepType,
} from './definition.ts';
import { describeValue, isRecord, own, problem, quote, type Path, type Problem } from './validateFormat.ts';
import { check } from './validateZod.ts';
import { templateProblems } from './templates.ts';
import { linkProblems, markdownToHtmlTemplate } from './emailBody.ts';

/** The fields of each delivery step that are Liquid templates, rendered for every lead. */
const TEMPLATE_FIELDS: Partial<Record<StepType, readonly string[]>> = {
  email: ['subject', 'body'],
  sms: ['text'],
  voice: ['script', 'voicemail'],
};

/** The template fields of an A/B variant, per step type (definition.ts, `emailVariantSchema`). */
const VARIANT_TEMPLATE_FIELDS: Partial<Record<StepType, readonly string[]>> = {
  email: ['subject', 'body'],
  sms: ['text'],
};

function templateFieldProblems(raw: Record<string, unknown>, fields: readonly string[], path: Path): Problem[] {
  return fields.flatMap((field) => {
    const template = own(raw, field);
    if (typeof template !== 'string') return [];
    return templateProblems(template).map((message) => problem([...path, field], message));
  });
}

/**
 * Templates that can never be sent: a file tag, a parse error, a limit (`templateProblems`) —
 * the step's own and each A/B variant's, under the same sandbox limits.
 */
export function checkStepTemplates(raw: unknown, index: number): Problem[] {
  if (!isRecord(raw)) return [];
  const type = own(raw, 'type');
  const fields = isStepType(type) ? TEMPLATE_FIELDS[type] ?? [] : [];
  const variantFields = isStepType(type) ? VARIANT_TEMPLATE_FIELDS[type] ?? [] : [];
  const variants = own(raw, 'variants');
  const ofVariants = Array.isArray(variants)
    ? variants.flatMap((variant, v) => (isRecord(variant) ? templateFieldProblems(variant, variantFields, ['steps', index, 'variants', v]) : []))
    : [];
  return [...templateFieldProblems(raw, fields, ['steps', index]), ...ofVariants];
}

/** An `abTest` has nothing to test without variants: said plainly rather than ignored. */
export function checkAbTest(raw: unknown, index: number): Problem[] {
  if (!isRecord(raw) || own(raw, 'abTest') === undefined || own(raw, 'variants') !== undefined) return [];
  return [problem(['steps', index, 'abTest'], 'An "abTest" needs "variants" on the same step (2 to 10, e.g. [{"id": "a"}, {"id": "b", "subject": "…"}]); add them or remove "abTest".')];
}

/**
 * Links an HTML or Markdown email body may never carry (`javascript:`, `data:` …): refused here,
 * never rewritten for click tracking. A plain-text body has no links to judge.
 */
export function checkEmailLinks(raw: unknown, index: number): Problem[] {
  if (!isRecord(raw) || own(raw, 'type') !== 'email') return [];
  const format = own(raw, 'format');
  const body = own(raw, 'body');
  if (typeof body !== 'string' || (format !== 'html' && format !== 'markdown')) return [];
  const html = format === 'markdown' ? markdownToHtmlTemplate(body) : body;
  return linkProblems(html).map((message) => problem(['steps', index, 'body'], message));
}

const STEP_SCHEMAS: Record<StepType, z.ZodObject> = {
  email: emailStepSchema,
  sms: smsStepSchema,
  voice: voiceStepSchema,
  wait: waitStepSchema,
  branch: branchStepSchema,
  task: taskStepSchema,
  end: endStepSchema,
};

/** Without a known type the only fields we can vouch for are the ones every step has. */
const { id, name, next } = emailStepSchema.shape;
const commonStepSchema = z.object({ id, name, next });

const [eventCondition, outcomeCondition, leadCondition, replyCondition] = conditionSchema.options;
const CONDITION_KINDS = [
  ['event', eventCondition],
  ['outcome', outcomeCondition],
  ['lead', leadCondition],
  ['reply', replyCondition],
] as const;
const CONDITION_EXAMPLE =
  '{"event": "email.opened", "step": "intro"}, {"outcome": ["meeting_booked"]}, {"lead": {"field": "title", "op": "exists"}} or {"reply": "interested"}';

export function isStepType(value: unknown): value is StepType {
  return typeof value === 'string' && (STEP_TYPES as readonly string[]).includes(value);
}

export function isStepId(value: unknown): value is string {
  return typeof value === 'string' && STEP_ID_PATTERN.test(value);
}

export function unknownStepTypeMessage(type: unknown): string {
  const types = STEP_TYPES.join(', ');
  if (type === undefined) return `Missing required field "type"; use one of ${types}.`;
  if (typeof type !== 'string') return `Step type must be a string, not ${describeValue(type)}; use one of ${types}.`;
  return `Step type ${quote(type)} is not known; use one of ${types}.`;
}

/** A branch condition is a union; pick the member by its key so the message names real fields. */
function checkCondition(raw: unknown, path: Path): Problem[] {
  if (raw === undefined) return [problem(path, `Missing required field "when"; add a condition such as ${CONDITION_EXAMPLE}.`)];
  if (!isRecord(raw)) return [problem(path, `A condition must be an object such as ${CONDITION_EXAMPLE}, not ${describeValue(raw)}.`)];
  const kind = CONDITION_KINDS.find(([key]) => Object.prototype.hasOwnProperty.call(raw, key));
  if (!kind) {
    return [problem(path, `A condition needs one of the fields "event", "outcome", "lead" or "reply", e.g. ${CONDITION_EXAMPLE}.`)];
  }
  return check(kind[1], raw, path);
}

export function checkStepStructure(raw: unknown, index: number): Problem[] {
  const path: Path = ['steps', index];
  if (!isRecord(raw)) {
    return [problem(path, `Each step must be an object such as {"id": "intro", "type": "email", …}, not ${describeValue(raw)}.`)];
  }
  const type = own(raw, 'type');
  if (!isStepType(type)) {
    return [problem([...path, 'type'], unknownStepTypeMessage(type)), ...check(commonStepSchema, raw, path)];
  }
  const schema = STEP_SCHEMAS[type];
  if (type !== 'branch') return check(schema, raw, path);
  const when = `$.steps[${index}].when`;
  const underWhen = (p: Problem) => p.path === when || p.path.startsWith(`${when}.`) || p.path.startsWith(`${when}[`);
  const problems = check(schema, raw, path).filter((p) => !underWhen(p));
  return [...problems, ...checkCondition(own(raw, 'when'), [...path, 'when'])];
}
