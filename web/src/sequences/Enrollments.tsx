/**
 * A sequence's enrollments (filter by status, newest first, paged) and the versions they run:
 * editing an active sequence makes a new version, and running enrollments stay on theirs.
 */
import { Badge, Button, ScrollArea, Select, Stack, Table, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get } from '../api/client.ts';
import type { Enrollment, Page, Sequence } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, leadName, relative, statusColor } from '../components/format.ts';
import { Link } from '../router.tsx';
import { SequenceVersions } from './Versions.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

const STATUSES = ['active', 'waiting', 'paused', 'completed', 'converted', 'exited', 'cancelled', 'failed'];

export function SequenceEnrollments({ sequence }: { sequence: Sequence }) {
  const [status, setStatus] = useState<string | null>(null);
  const list = useInfiniteQuery({
    queryKey: ['sequence', sequence.id, 'enrollments', status],
    queryFn: ({ pageParam }) => get<Page<Enrollment>>(`/api/sequences/${sequence.id}/enrollments`, { status, cursor: pageParam, limit: 50 }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: useLiveInterval(5_000),
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack>
      <SequenceVersions sequenceId={sequence.id} />
      <Select label="Status" placeholder="Any status" clearable data={STATUSES} value={status} onChange={setStatus} maw={240} />
      <ErrorAlert error={list.error} title="The enrollments could not be loaded" />
      {list.isSuccess && items.length === 0 && (
        <Text size="sm" c="dimmed">
          {status ? `No ${status} enrollment.` : 'No lead is enrolled yet. Activate the sequence, then enroll leads from the Leads page.'}
        </Text>
      )}
      {items.length > 0 && (
        <ScrollArea>
          <Table fz="sm" withTableBorder miw={640} aria-label="Enrollments">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>lead</Table.Th>
                <Table.Th>status</Table.Th>
                <Table.Th>version</Table.Th>
                <Table.Th>step</Table.Th>
                <Table.Th>next run (your time)</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td>
                    <Link to={`/leads/${e.lead.id}`}>{leadName(e.lead)}</Link>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={statusColor(e.status)} size="sm">
                      {e.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>v{e.sequenceVersion}</Table.Td>
                  <Table.Td>{e.currentStep?.id ?? '—'}</Table.Td>
                  <Table.Td>{e.nextRunAt ? `${formatAt(e.nextRunAt)} (${relative(e.nextRunAt)})` : '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      {list.hasNextPage && (
        <Button variant="subtle" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
          More
        </Button>
      )}
    </Stack>
  );
}
