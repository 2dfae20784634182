/**
 * A sequence's versions, newest first, with how many enrollments run on each; opening one shows
 * its definition as it was written (running enrollments stay on the version they started on).
 */
import { Badge, Code, Group, Modal, Stack, Text, UnstyledButton } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get } from '../api/client.ts';
import type { Page, SequenceVersion, SequenceVersionDetail } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt } from '../components/format.ts';

export function SequenceVersions({ sequenceId }: { sequenceId: string }) {
  const [open, setOpen] = useState<number | null>(null);
  const versions = useQuery({
    queryKey: ['sequence', sequenceId, 'versions'],
    queryFn: () => get<Pick<Page<SequenceVersion>, 'items'>>(`/api/sequences/${sequenceId}/versions`),
  });
  const definition = useQuery({
    queryKey: ['sequence', sequenceId, 'version', open],
    queryFn: () => get<SequenceVersionDetail>(`/api/sequences/${sequenceId}/versions/${open}`),
    enabled: open !== null,
  });
  return (
    <Stack gap="xs">
      <ErrorAlert error={versions.error} title="The versions could not be loaded" />
      <Group gap="xs" aria-label="Versions">
        <Text size="sm">Versions:</Text>
        {versions.data?.items.map((v) => (
          <UnstyledButton key={v.version} onClick={() => setOpen(v.version)} aria-label={`Show version ${v.version}`}>
            <Badge variant={v.current ? 'filled' : 'outline'} color={v.current ? 'indigo' : 'gray'} style={{ cursor: 'pointer' }}>
              v{v.version}
              {v.current ? ' (current)' : ''} · {v.enrollments} enrolled
            </Badge>
          </UnstyledButton>
        ))}
      </Group>
      <Modal opened={open !== null} onClose={() => setOpen(null)} title={`Version ${open ?? ''}`} size="lg">
        <ErrorAlert error={definition.error} title="This version could not be loaded" />
        {definition.data && (
          <Stack gap="xs">
            <Text size="sm" c="dimmed">
              Saved {formatAt(versions.data?.items.find((v) => v.version === open)?.createdAt)}
            </Text>
            <Code block>{JSON.stringify(definition.data.definition, null, 2)}</Code>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
