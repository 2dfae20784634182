/**
 * Validates a sequence definition (DESIGN.md, "Sequence definition") and explains every
 * problem at once: a JSON path and one sentence each. Pure: no IO, never throws.
 *
 * Layers, each of which runs even when another one failed, so a user sees everything in one go:
 * 1. the document's own fields, through `sequenceDefinitionSchema` (step details excluded);
 * 2. each step on its own, through its type's schema;
 * 3. the step graph (ids, targets, reachability, loops) when every step has a usable skeleton;
 * 4. settings rules (calendar dates, quiet hours against the schedule, duplicates);
 * and each delivery step's templates: no file tags, parse, within the render limits.
 */
import { sequenceDefinitionSchema, type SequenceDefinition } from './definition.ts';
import { describeValue, isRecord, own, problem, type Problem } from './validateFormat.ts';
import { graphProblems, toStepNode, type StepNode } from './validateGraph.ts';
import { durationRules, scheduleOpensRule, settingsRules, stepRules } from './validateRules.ts';
import { checkAbTest, checkEmailLinks, checkStepStructure, checkStepTemplates } from './validateSteps.ts';
import { issuesToProblems } from './validateZod.ts';

export type { Problem } from './validateFormat.ts';
export { formatPath } from './validateFormat.ts';
export { reachableStepIds } from './validateGraph.ts';

/**
 * `warnings` never block saving; on failure they are returned too, so one round trip shows all.
 * (The failure branch's `warnings` is an addition to the shape a caller must handle.)
 */
export type ValidationResult =
  | { ok: true; definition: SequenceDefinition; warnings: Problem[] }
  | { ok: false; problems: Problem[]; warnings: Problem[] };

/** Steps beyond this many get no per-step detail; the schema's own limit is reported instead. */
const STEP_DETAIL_LIMIT = 200;
/** A document full of garbage should produce a readable answer, not a million lines. */
const MAX_PROBLEMS = 200;

function capped(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const rest = problems.length - MAX_PROBLEMS;
  return [...problems.slice(0, MAX_PROBLEMS), problem([], `…and ${rest} more problems; fix the ones above and validate again.`)];
}

function isStepDetail(path: readonly PropertyKey[]): boolean {
  return path[0] === 'steps' && path.length > 1;
}

export interface ValidationOptions {
  /** When given, the schedule must open within the year after it (a caller's clock; the core has none). */
  now?: Date;
}

function validate(input: unknown, options: ValidationOptions): ValidationResult {
  if (!isRecord(input)) {
    const example = '{"name": "Follow-up", "steps": [{"id": "intro", "type": "email", "subject": "…", "body": "…"}]}';
    return { ok: false, problems: [problem([], `A sequence definition must be a JSON object such as ${example}, not ${describeValue(input)}.`)], warnings: [] };
  }
  const errors: Problem[] = [];
  const warnings: Problem[] = [];

  const whole = sequenceDefinitionSchema.safeParse(input);
  const documentIssues = whole.success ? [] : whole.error.issues.filter((issue) => !isStepDetail(issue.path));
  errors.push(...issuesToProblems(documentIssues, { input, schema: sequenceDefinitionSchema, prefix: [] }));

  const steps = own(input, 'steps');
  const rawSteps = Array.isArray(steps) ? (steps as unknown[]) : undefined;
  const detailed = rawSteps?.slice(0, STEP_DETAIL_LIMIT) ?? [];
  detailed.forEach((step, index) =>
    errors.push(
      ...checkStepStructure(step, index),
      ...checkStepTemplates(step, index),
      ...checkEmailLinks(step, index),
      ...checkAbTest(step, index),
    ),
  );

  const nodes = detailed.map((step, index) => toStepNode(step, index));
  const usable = rawSteps !== undefined && rawSteps.length > 0 && rawSteps.length <= STEP_DETAIL_LIMIT && nodes.every(Boolean);
  if (usable) {
    const graphNodes = nodes as StepNode[];
    errors.push(...graphProblems(graphNodes));
    const rules = stepRules(graphNodes, detailed, own(input, 'exitOn'));
    errors.push(...rules.errors);
    warnings.push(...rules.warnings);
  }
  const settings = settingsRules(input, rawSteps);
  errors.push(...settings.errors);
  errors.push(...durationRules(detailed, own(input, 'schedule')));
  if (options.now) errors.push(...scheduleOpensRule(own(input, 'schedule'), options.now));
  warnings.push(...settings.warnings);

  if (errors.length === 0 && whole.success) return { ok: true, definition: whole.data, warnings };
  if (errors.length === 0) {
    // Step schemas accepted each step but the document schema did not: report its view rather than pass.
    const issues = whole.success ? [] : whole.error.issues;
    errors.push(...issuesToProblems(issues, { input, schema: sequenceDefinitionSchema, prefix: [] }));
    if (errors.length === 0) errors.push(problem([], 'The definition is not valid, for a reason the validator cannot explain; please report it.'));
  }
  return { ok: false, problems: capped(errors), warnings: capped(warnings) };
}

export function validateDefinition(input: unknown, options: ValidationOptions = {}): ValidationResult {
  try {
    return validate(input, options);
  } catch (error) {
    // Exotic input (a throwing getter, a revoked proxy) must still get an answer, not a 500.
    const reason = error instanceof Error ? error.message.replace(/\s+/g, ' ').slice(0, 200) : 'unknown error';
    return { ok: false, problems: [problem([], `The definition could not be read (${reason}); send plain JSON.`)], warnings: [] };
  }
}

/**
 * The problems of a stored definition that would make it fail when it runs: its templates,
 * its durations, a schedule with no opening in the year after `now`. Preview and enrollment ask
 * this of a version saved before these rules existed.
 */
export function runTimeProblems(input: unknown, now: Date): Problem[] {
  try {
    if (!isRecord(input)) return [];
    const steps = own(input, 'steps');
    const rawSteps = Array.isArray(steps) ? (steps as unknown[]).slice(0, STEP_DETAIL_LIMIT) : [];
    return capped([
      ...rawSteps.flatMap((step, index) => checkStepTemplates(step, index)),
      ...durationRules(rawSteps, own(input, 'schedule')),
      ...scheduleOpensRule(own(input, 'schedule'), now),
    ]);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/\s+/g, ' ').slice(0, 200) : 'unknown error';
    return [problem([], `The definition could not be checked (${reason}).`)];
  }
}

/** One line per problem, `$.path: message`, for the CLI. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}
