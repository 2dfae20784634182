/**
 * The mailbox form's fields are nested (`smtp.host`, `imap.password`), while fieldErrors() keys
 * by the first path segment only. This keys by the whole dotted path the form knows ("smtp.host")
 * and leaves everything else to fieldErrors() as a sentence that names the field.
 */
import { problemsOf } from '../api/client.ts';
import { fieldErrors, pathSegments, type FieldErrors } from '../components/fieldErrors.ts';

export function nestedFieldErrors(error: unknown, labels: Record<string, string>): FieldErrors {
  const byField: Record<string, string> = {};
  const general: string[] = [];
  const problems = problemsOf(error);
  for (const problem of problems) {
    const key = pathSegments(problem.path).join('.');
    const raw = String(problem.message ?? 'is not valid').trim().replace(/[.\s]+$/, '');
    const text = raw ? `${raw[0]!.toUpperCase()}${raw.slice(1)}.` : 'Is not valid.';
    if (key in labels) byField[key] = byField[key] && !byField[key]!.includes(text) ? `${byField[key]} ${text}` : text;
    else general.push(`${labels[key.split('.')[0]!] ?? key}: ${text}`);
  }
  // Not a validation answer (a conflict, a missing key, a network failure): fieldErrors says it.
  if (problems.length === 0) return fieldErrors(error);
  return { byField, general: [...new Set(general)] };
}
