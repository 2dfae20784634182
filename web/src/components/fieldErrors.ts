/**
 * The API's validation problems (`{path: "$.phone", message}`) as a person reads them: each next
 * to the field it is about (by the field's key), anything else as a sentence that names the
 * field by its label ("Phone: …", never "$.phone"), each said once.
 */
import { ApiError, problemsOf } from '../api/client.ts';

export interface FieldErrors {
  /** Per form field key (the first segment of the path), the sentence to show under it. */
  byField: Record<string, string>;
  /** Problems no shown field takes, as sentences, without repeats. */
  general: string[];
}

/** "$.customFields.plan" → ["customFields", "plan"]; "$.steps[1].id" → ["steps", "1", "id"]. */
export function pathSegments(path: string | undefined): string[] {
  if (!path) return [];
  return path
    .replace(/^\$\.?/, '')
    .split(/[.[\]]+/)
    .filter(Boolean);
}

/** A message as a sentence: capitalised, one final period. */
function sentence(text: string): string {
  const trimmed = text.trim().replace(/[.\s]+$/, '');
  return trimmed ? `${trimmed[0]!.toUpperCase()}${trimmed.slice(1)}.` : '';
}

/** A field key as words when no label is given: "firstName" → "First name". */
export function humanise(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words ? `${words[0]!.toUpperCase()}${words.slice(1)}` : key;
}

export function fieldErrors(error: unknown, labels: Record<string, string> = {}): FieldErrors {
  const result: FieldErrors = { byField: {}, general: [] };
  const problems = problemsOf(error);
  const seen = new Set<string>();
  for (const problem of problems) {
    const [field] = pathSegments(problem.path);
    const message = sentence(String(problem.message ?? 'is not valid'));
    if (field && field in labels) {
      if (!result.byField[field]) result.byField[field] = message;
      else if (!result.byField[field]!.includes(message)) result.byField[field] += ` ${message}`;
      continue;
    }
    // A predicate ("is not a known time zone") continues the label; a sentence of its own follows a colon.
    const raw = String(problem.message ?? '').trim();
    const label = field ? (labels[field] ?? humanise(field)) : '';
    const text = !field ? message : /^[a-z]/.test(raw) ? sentence(`${label} ${raw}`) : `${label}: ${message}`;
    if (!seen.has(text)) (seen.add(text), result.general.push(text));
  }
  if (problems.length === 0 && error) {
    const text = error instanceof Error ? error.message : String(error);
    if (!(error instanceof ApiError && error.status === 0 && !text)) result.general.push(text);
  }
  return result;
}
