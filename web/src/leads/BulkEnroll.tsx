/** Enroll the selected leads in an active sequence; shows who was enrolled and why others were skipped. */
import { Alert, Button, Group, Modal, Select, Stack, Table, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post } from '../api/client.ts';
import type { Body, EnrollResult, Page, Sequence } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Link } from '../router.tsx';

export function BulkEnroll({ leadIds, opened, onClose }: { leadIds: string[]; opened: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [sequenceId, setSequenceId] = useState<string | null>(null);
  const sequences = useQuery({
    queryKey: ['sequences', 'active'],
    queryFn: () => get<Page<Sequence>>('/api/sequences', { status: 'active', limit: 200 }),
    enabled: opened,
  });
  const enroll = useMutation({
    mutationFn: () => post<EnrollResult>(`/api/sequences/${sequenceId}/enrollments`, { leadIds } satisfies Body<'/api/sequences/{id}/enrollments', 'post'>),
    onSuccess: () => client.invalidateQueries(),
  });
  const active = (sequences.data?.items ?? []).filter((s) => s.status === 'active');
  const close = () => {
    enroll.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={`Enroll ${leadIds.length} lead${leadIds.length === 1 ? '' : 's'}`} size="lg">
      <Stack>
        {sequences.isSuccess && active.length === 0 && (
          <Alert color="yellow">
            No sequence is active yet. <Link to="/sequences">Create and activate one</Link> first.
          </Alert>
        )}
        <Select
          label="Sequence"
          placeholder="Choose an active sequence"
          data={active.map((s) => ({ value: s.id, label: s.name }))}
          value={sequenceId}
          onChange={setSequenceId}
          searchable
        />
        <ErrorAlert error={sequences.error ?? enroll.error} />
        {enroll.data && (
          <Stack gap="xs" data-testid="enroll-result">
            <Text>
              Enrolled {enroll.data.enrolled.length}; skipped {enroll.data.skipped.length}.
            </Text>
            {enroll.data.skipped.length > 0 && (
              <Table fz="sm" withTableBorder aria-label="Skipped leads">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>lead</Table.Th>
                    <Table.Th>why skipped</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {enroll.data.skipped.map((s) => (
                    <Table.Tr key={s.leadId}>
                      <Table.Td>
                        <Link to={`/leads/${s.leadId}`}>{s.leadId.slice(0, 8)}…</Link>
                      </Table.Td>
                      <Table.Td>
                        {s.reason.replace(/_/g, ' ')}
                        {s.message ? ` — ${s.message}` : ''}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Stack>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {enroll.data ? 'Done' : 'Cancel'}
          </Button>
          {!enroll.data && (
            <Button disabled={!sequenceId} loading={enroll.isPending} onClick={() => enroll.mutate()}>
              Enroll
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
