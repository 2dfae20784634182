import { Badge, Button, Group, ScrollArea, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import type { Page, Sequence, SequenceStats as SequenceStatsAnswer } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, statusColor } from '../components/format.ts';
import { Link, navigate } from '../router.tsx';

function StatsCell({ id }: { id: string }) {
  const stats = useQuery({ queryKey: ['sequence', id, 'stats'], queryFn: () => get<SequenceStatsAnswer>(`/api/sequences/${id}/stats`) });
  if (!stats.data) return <Text size="xs" c="dimmed">…</Text>;
  const e = stats.data.enrollments;
  const sent = stats.data.steps.reduce((n, s) => n + s.sent, 0);
  const replied = stats.data.steps.reduce((n, s) => n + s.replied, 0);
  const live = (e.active ?? 0) + (e.waiting ?? 0) + (e.paused ?? 0);
  const total = Object.values(e).reduce((a, b) => a + b, 0);
  return (
    <Text size="sm">
      {total} enrolled · {live} live · {sent} sent · {replied} replied
    </Text>
  );
}

export function SequencesPage() {
  const auth = useAuth();
  const sequences = useQuery({ queryKey: ['sequences'], queryFn: () => get<Page<Sequence>>('/api/sequences', { limit: 200 }) });
  const items = sequences.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Sequences</Title>
        {auth.can('admin') && <Button onClick={() => navigate('/sequences/new')}>New sequence</Button>}
      </Group>
      <ErrorAlert error={sequences.error} title="The sequences could not be loaded" />
      {sequences.isSuccess && items.length === 0 && (
        <EmptyState title="No sequences yet" action={auth.can('admin') ? <Button onClick={() => navigate('/sequences/new')}>Create your first sequence</Button> : undefined}>
          A sequence is the plan Touchpoint follows for each lead: emails, waits, calls, SMS, manual tasks and branches on what the lead
          did. Create one, activate it, then enroll leads from the Leads page.
        </EmptyState>
      )}
      {items.length > 0 && (
        <ScrollArea>
          <Table striped highlightOnHover miw={640} aria-label="Sequences">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th>Stats</Table.Th>
                <Table.Th>Updated</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Link to={`/sequences/${s.id}`}>{s.name}</Link>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={statusColor(s.status)}>{s.status}</Badge>
                  </Table.Td>
                  <Table.Td>v{s.currentVersion}</Table.Td>
                  <Table.Td>
                    <StatsCell id={s.id} />
                  </Table.Td>
                  <Table.Td>{formatAt(s.updatedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
    </Stack>
  );
}
