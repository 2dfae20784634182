/** Save (create, or a new version) and status changes: activate, pause, archive. Admins only. */
import { Button, Group, Stack } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { patch, post, put } from '../api/client.ts';
import type { Body, Sequence, SequenceDefinition, SequenceDetail, SequenceStatus } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { navigate } from '../router.tsx';

const MOVES: Record<SequenceStatus, Array<{ to: SequenceStatus; label: string }>> = {
  draft: [{ to: 'active', label: 'Activate' }, { to: 'archived', label: 'Archive' }],
  active: [{ to: 'paused', label: 'Pause sequence' }, { to: 'archived', label: 'Archive' }],
  paused: [{ to: 'active', label: 'Activate' }, { to: 'archived', label: 'Archive' }],
  archived: [{ to: 'draft', label: 'Restore as draft' }],
};

interface Props {
  sequence: Sequence | undefined;
  definition: SequenceDefinition;
  canSave: boolean;
  readOnly: boolean;
}

export function SequenceActions({ sequence, definition, canSave, readOnly }: Props) {
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: () => (sequence ? put<SequenceDetail>(`/api/sequences/${sequence.id}`, definition) : post<SequenceDetail>('/api/sequences', definition)),
    onSuccess: (saved) => {
      client.setQueryData(['sequence', saved.id], saved);
      void client.invalidateQueries({ queryKey: ['sequences'] });
      if (!sequence) navigate(`/sequences/${saved.id}`);
    },
  });
  const move = useMutation({
    mutationFn: (status: SequenceStatus) => patch<SequenceDetail>(`/api/sequences/${sequence!.id}`, { status } satisfies Body<'/api/sequences/{id}', 'patch'>),
    onSuccess: (saved) => {
      client.setQueryData(['sequence', saved.id], saved);
      void client.invalidateQueries({ queryKey: ['sequences'] });
    },
  });
  if (readOnly) return null;
  return (
    <Stack gap="xs" align="flex-end">
      <Group gap="xs">
        <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!canSave}>
          {sequence ? 'Save as new version' : 'Create sequence'}
        </Button>
        {sequence &&
          MOVES[sequence.status].map((m) => (
            <Button key={m.to} variant={m.to === 'active' ? 'filled' : 'default'} color={m.to === 'active' ? 'green' : undefined} loading={move.isPending && move.variables === m.to} onClick={() => move.mutate(m.to)}>
              {m.label}
            </Button>
          ))}
      </Group>
      <ErrorAlert error={save.error} title="The sequence was not saved" />
      <ErrorAlert error={move.error} title="The status did not change" />
    </Stack>
  );
}
