/**
 * Per-step funnel (enrollments reached, sent, delivered, opened… and a branch's split) and the
 * rates a salesperson reads, per step and for the sequence; definitions in docs/ANALYTICS.md.
 */
import { Badge, Group, ScrollArea, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { get } from '../api/client.ts';
import type { SequenceStats as SequenceStatsAnswer } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { statusColor } from '../components/format.ts';
import { SequenceTrend } from './Trend.tsx';
import { VariantComparison } from './Variants.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

const COLUMNS = [
  'reached', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'optedOut', 'converted', 'meetingBooked', 'failed', 'skipped',
] as const;
const RATES = [
  ['delivery', 'delivery'],
  ['open', 'open'],
  ['click', 'click'],
  ['reply', 'reply'],
  ['bounce', 'bounce'],
  ['optOut', 'opt-out'],
] as const;
type Rates = SequenceStatsAnswer['totals']['rates'];

/** A rate with nothing to divide by reads as a dash, not 0 % or NaN. */
function percent(rate: number | null): string {
  return rate === null ? '–' : `${(rate * 100).toFixed(1)} %`;
}

function rateLine(rates: Rates): string {
  return RATES.map(([key, label]) => `${label} ${percent(rates[key])}`).join(' · ');
}

export function SequenceStats({ sequenceId }: { sequenceId: string }) {
  const stats = useQuery({
    queryKey: ['sequence', sequenceId, 'stats'],
    queryFn: () => get<SequenceStatsAnswer>(`/api/sequences/${sequenceId}/stats`),
    refetchInterval: useLiveInterval(5_000),
  });
  if (stats.error) return <ErrorAlert error={stats.error} title="Stats are unavailable" />;
  if (!stats.data) return null;
  const { steps, enrollments, totals } = stats.data;
  const total = Object.values(enrollments).reduce((a, b) => a + b, 0);
  return (
    <Stack data-testid="sequence-stats">
      <Group gap="xs">
        <Text size="sm">Enrollments: {total}</Text>
        {Object.entries(enrollments)
          .filter(([, n]) => n > 0)
          .map(([status, n]) => (
            <Badge key={status} color={statusColor(status)} variant="light">
              {status} {n}
            </Badge>
          ))}
      </Group>
      {total > 0 && (
        <Text size="sm" data-testid="sequence-rates">
          Sequence: {rateLine(totals.rates)}
        </Text>
      )}
      {total === 0 && <Text c="dimmed" size="sm">No lead is enrolled yet: activate the sequence, then enroll leads from the Leads page.</Text>}
      {/* At phone width the table scrolls sideways: the region takes the focus so a keyboard can scroll it too. */}
      <ScrollArea viewportProps={{ tabIndex: 0, role: 'region', 'aria-label': 'Per-step funnel, scrollable' } as React.ComponentPropsWithoutRef<'div'>}>
        <Table withTableBorder fz="sm" miw={600} aria-label="Per-step funnel">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>step</Table.Th>
              {COLUMNS.map((c) => (
                <Table.Th key={c}>{c}</Table.Th>
              ))}
              <Table.Th>rates</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {steps.map((s) => (
              <Table.Tr key={s.stepId}>
                <Table.Td>
                  {s.stepId} <Text span c="dimmed" size="xs">{s.type}</Text>
                </Table.Td>
                {COLUMNS.map((c) => (
                  <Table.Td key={c}>{s[c]}</Table.Td>
                ))}
                <Table.Td>
                  {s.branch ? `then ${s.branch.then} · else ${s.branch.else}` : s.sent > 0 ? rateLine(s.rates) : ''}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {total > 0 && (
        <div style={{ width: '100%', height: 240 }}>
          <ResponsiveContainer>
            <BarChart data={steps}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="stepId" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="reached" fill="#748ffc" />
              <Bar dataKey="delivered" fill="#40c057" />
              <Bar dataKey="opened" fill="#fab005" />
              <Bar dataKey="replied" fill="#12b886" />
              <Bar dataKey="failed" fill="#fa5252" />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      <VariantComparison steps={steps} />
      {total > 0 && <SequenceTrend sequenceId={sequenceId} />}
    </Stack>
  );
}
