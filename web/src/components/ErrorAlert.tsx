import { Alert, List } from '@mantine/core';
import { ApiError, problemsOf } from '../api/client.ts';
import { fieldErrors } from './fieldErrors.ts';

/**
 * An error as sentences the operator can act on. A validation error lists its problems in words
 * ("Phone: …", never "$.phone"), each once, instead of the headline that repeats the first;
 * `labels` names the fields of the form it belongs to, and `shownByFields` leaves out the
 * problems the form already shows under its fields.
 */
export function ErrorAlert({
  error,
  title = 'Something went wrong',
  labels,
  shownByFields = false,
}: {
  error: unknown;
  title?: string;
  labels?: Record<string, string>;
  shownByFields?: boolean;
}) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const hasProblems = problemsOf(error).length > 0;
  const { byField, general } = fieldErrors(error, labels);
  const lines = hasProblems ? [...(shownByFields ? [] : Object.entries(byField).map(([key, text]) => `${labels?.[key] ?? key}: ${text}`)), ...general] : [];
  if (hasProblems && lines.length === 0) return null; // every problem is already under its field
  return (
    <Alert color="red" title={title} role="alert">
      {!hasProblems && message}
      {!hasProblems && error instanceof ApiError && error.status === 401 && ' Sign in again with a valid token.'}
      {lines.length === 1 && lines[0]}
      {lines.length > 1 && (
        <List size="sm">
          {lines.slice(0, 20).map((line) => (
            <List.Item key={line}>{line}</List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
