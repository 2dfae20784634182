/**
 * What a bulk action did (POST /api/leads/bulk): its sentence, and the leads it skipped by name
 * with why (the first 100; the rest are counted in the sentence).
 */
import { Stack, Table, Text } from '@mantine/core';
import type { BulkResult } from '../api/types.ts';
import { Link } from '../router.tsx';

export function BulkReport({ result }: { result: BulkResult }) {
  return (
    <Stack gap="xs" data-testid="bulk-result">
      <Text size="sm">{result.sentence}</Text>
      <SkippedLeads rows={result.skipped} />
      {result.skippedCount > result.skipped.length && (
        <Text size="xs" c="dimmed">
          The first {result.skipped.length} of {result.skippedCount.toLocaleString()} skipped leads are listed.
        </Text>
      )}
    </Stack>
  );
}

/** Skipped leads by name (a link to each), with why; nothing when none was skipped. */
export function SkippedLeads({ rows }: { rows: Array<{ leadId: string; name: string | null; message: string }> }) {
  if (rows.length === 0) return null;
  return (
    <Table fz="sm" withTableBorder aria-label="Skipped leads">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Lead</Table.Th>
          <Table.Th>Why it was skipped</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((s) => (
          <Table.Tr key={s.leadId}>
            <Table.Td>
              <Link to={`/leads/${s.leadId}`}>{s.name ?? `Lead ${s.leadId.slice(0, 8)}…`}</Link>
            </Table.Td>
            <Table.Td>{s.message}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
