/** The newest failed sends and sends whose outcome a crash made unknown, with lead and sequence. */
import { Badge, Paper, ScrollArea, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt } from '../components/format.ts';
import { Link } from '../router.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

interface FailedExecution {
  id: string;
  stepId: string;
  channel: string | null;
  status: string;
  adapter: string | null;
  error: { code: string | null; message: string | null } | null;
  startedAt: string;
  leadName: string | null;
  leadEmail: string | null;
  sequenceName: string;
  leadId: string;
}

export function RecentFailures() {
  const failures = useQuery({
    queryKey: ['executions', 'failed'],
    queryFn: () => get<{ items: FailedExecution[] }>('/api/executions', { limit: 20 }),
    refetchInterval: useLiveInterval(5_000),
  });
  const items = failures.data?.items ?? [];
  return (
    <Paper withBorder p="md" radius="md">
      <Title order={4}>Recent failures</Title>
      <ErrorAlert error={failures.error} title="Recent failures could not be loaded" />
      {failures.isSuccess && items.length === 0 && <Text size="sm" c="dimmed">No failed or unknown send. Good.</Text>}
      {items.length > 0 && (
        <ScrollArea>
          <Table fz="sm" aria-label="Recent failures" miw={560}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>when</Table.Th>
                <Table.Th>lead</Table.Th>
                <Table.Th>sequence · step</Table.Th>
                <Table.Th>status</Table.Th>
                <Table.Th>error</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((x) => (
                <Table.Tr key={x.id}>
                  <Table.Td>{formatAt(x.startedAt)}</Table.Td>
                  <Table.Td>
                    <Link to={`/leads/${x.leadId}`}>{x.leadName ?? x.leadEmail ?? 'lead'}</Link>
                  </Table.Td>
                  <Table.Td>
                    {x.sequenceName} · {x.stepId} ({x.channel ?? '—'} via {x.adapter ?? '—'})
                  </Table.Td>
                  <Table.Td>
                    <Badge size="sm" color={x.status === 'failed' ? 'red' : 'orange'}>
                      {x.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{x.error ? `${x.error.code ?? ''} ${x.error.message ?? ''}`.trim() : '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
    </Paper>
  );
}
