/** What a link to something that is not there shows: what was asked for, and where to go instead. */
import { Button, Stack, Text, Title } from '@mantine/core';
import { ApiError } from '../api/client.ts';
import { navigate } from '../router.tsx';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether an id from the address can name anything: checked before asking the server. */
export const looksLikeId = (id: string) => UUID.test(id);

/** Whether a failed read means "there is no such thing" (not found, or an id the API never gave out). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || (error.status === 400 && error.code === 'validation_failed'));
}

export function NotFound({ what, back, backLabel }: { what: string; back: string; backLabel: string }) {
  return (
    <Stack maw={560} data-testid="not-found">
      <Title order={2}>{what} not found</Title>
      <Text>
        This address names no {what.toLowerCase()} in your workspace: the link may be mistyped, or the {what.toLowerCase()} was deleted.
      </Text>
      <div>
        <Button onClick={() => navigate(back)}>{backLabel}</Button>
      </div>
    </Stack>
  );
}
