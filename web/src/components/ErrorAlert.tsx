import { Alert, List } from '@mantine/core';
import { ApiError, problemsOf } from '../api/client.ts';

/** An error as a sentence the operator can act on, with the API's per-field problems listed. */
export function ErrorAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const problems = problemsOf(error);
  return (
    <Alert color="red" title={title} role="alert">
      {message}
      {error instanceof ApiError && error.status === 401 && ' Sign out and sign in with a valid token.'}
      {problems.length > 0 && (
        <List size="sm" mt="xs">
          {problems.slice(0, 20).map((p, i) => (
            <List.Item key={i}>
              {p.path ? <code>{p.path}</code> : null} {p.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
