/**
 * A step as the editor holds it before it is saved, judged alone (docs/SEQUENCES.md, "Writing
 * steps"): the same step rules, template sandbox and link rules the whole definition gets, with
 * paths under `$.step`. Rules about the step's place in the sequence (reachability, threads)
 * wait for the definition's own validation.
 */
import { checkEmailLinks, checkStepStructure, checkStepTemplates } from './validateSteps.ts';
import { isRecord, own, problem, type Problem } from './validateFormat.ts';

export const DRAFT_STEP_TYPES = ['email', 'sms', 'voice'] as const;

/** Problems of a draft delivery step; none means it parses as one (`stepSchema`). */
export function draftStepProblems(raw: unknown): Problem[] {
  const type = isRecord(raw) ? own(raw, 'type') : undefined;
  if (!(DRAFT_STEP_TYPES as readonly unknown[]).includes(type)) {
    return [problem(['step', 'type'], `Only email, sms and voice steps have words to preview, not ${JSON.stringify(type ?? null)}.`)];
  }
  const problems = [...checkStepStructure(raw, 0), ...checkStepTemplates(raw, 0), ...checkEmailLinks(raw, 0)];
  return problems.map((p) => ({ ...p, path: p.path.replace(/^\$\.steps\[0\]/, '$.step') }));
}

