/**
 * Reports (docs/ANALYTICS.md, "Reports"): the workspace's message figures over a period, grouped
 * by day, week, sequence, step, variant, channel, mailbox or owner (the lead's owner when each
 * message was written), as a chart and a table, filtered by channel, sequence and owner, with a
 * CSV download of the same report.
 */
import { Button, Group, Paper, ScrollArea, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ApiError, credentialHeaders, get, withQuery } from '../api/client.ts';
import type { Page, Report, ReportRow, Sequence } from '../api/types.ts';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { OwnerFilter } from '../leads/OwnerSelect.tsx';

const GROUPS = [
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'sequence', label: 'Sequence' },
  { value: 'step', label: 'Step' },
  { value: 'variant', label: 'Variant' },
  { value: 'channel', label: 'Channel' },
  { value: 'mailbox', label: 'Mailbox' },
  { value: 'owner', label: 'Owner' },
];
/** The groupings an owner filter goes with (the owners' rollup has no step, variant or mailbox). */
const OWNER_FILTER_GROUPS = ['day', 'week', 'sequence', 'channel', 'owner'];
const COUNTS = ['reached', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'optedOut', 'converted', 'meetingBooked', 'failed', 'skipped'] as const;
const RATES = [
  ['delivery', 'delivery'],
  ['open', 'open'],
  ['click', 'click'],
  ['reply', 'reply'],
  ['bounce', 'bounce'],
  ['optOut', 'opt-out'],
  ['conversion', 'conversion'],
  ['meeting', 'meeting'],
] as const;

const utcDay = (date: Date) => date.toISOString().slice(0, 10);
const percent = (rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(1)} %`);

/** The CSV goes through fetch with the caller's credentials (a pasted token, or the signed-in person's workspace), then to the browser as a file. */
async function downloadCsv(query: Record<string, string | undefined>): Promise<void> {
  const response = await fetch(withQuery('/api/reports', { ...query, format: 'csv' }), { headers: credentialHeaders() });
  if (!response.ok) throw new ApiError(response.status, String(response.status), `The CSV could not be made (HTTP ${response.status}).`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `report-${query.groupBy}-${query.from}-${query.to}.csv`;
  link.click();
  URL.revokeObjectURL(url);
}

function ReportChart({ report }: { report: Report }) {
  const overTime = report.groupBy === 'day' || report.groupBy === 'week';
  const data = report.rows.map((row: ReportRow) => ({ name: overTime ? row.key : row.label, sent: row.sent, delivered: row.delivered, opened: row.opened, replied: row.replied }));
  return (
    <Paper withBorder p="md" radius="md" data-testid="report-chart">
      <ResponsiveContainer width="100%" height={260}>
        {overTime ? (
          <LineChart data={data}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" fontSize={11} />
            <YAxis allowDecimals={false} fontSize={11} />
            <Tooltip />
            <Legend />
            <Line type="monotone" dataKey="sent" stroke="#4c6ef5" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="delivered" stroke="#15aabf" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="opened" stroke="#fab005" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="replied" stroke="#40c057" dot={false} isAnimationActive={false} />
          </LineChart>
        ) : (
          <BarChart data={data}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" fontSize={11} />
            <YAxis allowDecimals={false} fontSize={11} />
            <Tooltip />
            <Legend />
            <Bar dataKey="sent" fill="#4c6ef5" isAnimationActive={false} />
            <Bar dataKey="delivered" fill="#15aabf" isAnimationActive={false} />
            <Bar dataKey="replied" fill="#40c057" isAnimationActive={false} />
          </BarChart>
        )}
      </ResponsiveContainer>
    </Paper>
  );
}

export function ReportsPage() {
  const today = utcDay(new Date());
  const [from, setFrom] = useState(utcDay(new Date(Date.now() - 29 * 86_400_000)));
  const [to, setTo] = useState(today);
  const [groupBy, setGroupBy] = useState('day');
  const [channel, setChannel] = useState<string | null>(null);
  const [sequenceId, setSequenceId] = useState<string | null>(null);
  const [owner, setOwner] = useState<string | null>(null);
  const [csvError, setCsvError] = useState<unknown>(null);
  const query = { from, to, groupBy, channel: channel ?? undefined, sequenceId: sequenceId ?? undefined, owner: owner ?? undefined };
  const sequences = useQuery({ queryKey: ['sequences', 'all'], queryFn: () => get<Page<Sequence>>('/api/sequences', { limit: 100 }) });
  const report = useQuery({ queryKey: ['reports', query], queryFn: () => get<Report>('/api/reports', query), placeholderData: (previous) => previous });
  const data = report.data;
  return (
    <Stack>
      <Title order={2}>Reports</Title>
      <Text size="sm" c="dimmed">
        Messages per UTC day, each counted once per measure on the day it happened (docs/ANALYTICS.md, "Reports").
      </Text>
      <Group align="end" wrap="wrap" role="group" aria-label="Report filters">
        <TextInput type="date" label="From" value={from} max={to} onChange={(e) => setFrom(e.currentTarget.value)} w={160} />
        <TextInput type="date" label="To" value={to} min={from} onChange={(e) => setTo(e.currentTarget.value)} w={160} />
        <Select
          label="Group by"
          data={GROUPS.map((g) => ({ ...g, disabled: owner !== null && !OWNER_FILTER_GROUPS.includes(g.value) }))}
          value={groupBy}
          allowDeselect={false}
          onChange={(v) => v && setGroupBy(v)}
          w={140}
        />
        <Select label="Channel" placeholder="All" clearable data={['email', 'sms', 'voice']} value={channel} onChange={setChannel} w={120} />
        <Select
          label="Sequence"
          placeholder="All"
          clearable
          searchable
          data={(sequences.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
          value={sequenceId}
          onChange={setSequenceId}
          w={220}
        />
        <OwnerFilter value={owner} onChange={setOwner} mine="Mine" w={220} disabled={!OWNER_FILTER_GROUPS.includes(groupBy)} />
        <Button variant="light" onClick={() => downloadCsv(query).then(() => setCsvError(null), setCsvError)}>
          Download CSV
        </Button>
      </Group>
      <ErrorAlert error={report.error ?? csvError} title="The report could not be made" />
      {data && data.totals.sent === 0 && data.totals.reached === 0 && data.totals.delivered === 0 ? (
        <EmptyState title="Nothing in this period">Sends and their events appear here once sequences run; widen the dates or clear a filter.</EmptyState>
      ) : null}
      {data && (
        <>
          <Text size="sm" data-testid="report-totals">
            {data.totals.sent} sent · {data.totals.delivered} delivered · {data.totals.replied} replied ·{' '}
            {RATES.map(([key, label]) => `${label} ${percent(data.totals.rates[key])}`).join(' · ')}
          </Text>
          <ReportChart report={data} />
          <ScrollArea>
            <Table striped highlightOnHover data-testid="report-table" fz="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{GROUPS.find((g) => g.value === data.groupBy)?.label}</Table.Th>
                  {COUNTS.map((c) => (
                    <Table.Th key={c}>{c}</Table.Th>
                  ))}
                  <Table.Th>reply rate</Table.Th>
                  <Table.Th>open rate</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.rows.map((row) => (
                  <Table.Tr key={row.key} data-testid="report-row">
                    <Table.Td>{row.label}</Table.Td>
                    {COUNTS.map((c) => (
                      <Table.Td key={c}>{row[c]}</Table.Td>
                    ))}
                    <Table.Td>{percent(row.rates.reply)}</Table.Td>
                    <Table.Td>{percent(row.rates.open)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        </>
      )}
    </Stack>
  );
}
