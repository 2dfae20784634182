/** Operational figures from `GET /metrics?scope=cluster`, as charts: deliveries, step rate, lag, backlog, failures. */
import { Loader, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { DeliveriesChart, LagChart, LagDistributionChart, RateChart, StepsChart } from '../monitoring/Charts.tsx';
import { byLabel, histogramBuckets, histogramQuantile, sum, type Sample } from '../monitoring/prometheus.ts';
import { RecentFailures } from '../monitoring/RecentFailures.tsx';
import { useMetrics } from '../monitoring/useMetrics.ts';

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Paper withBorder p="md" radius="md" data-testid="figure">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
      {hint && <Text size="xs" c="dimmed">{hint}</Text>}
    </Paper>
  );
}

const seconds = (v: number | null) => (v === null ? '—' : v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`);

function deliveriesByAdapter(samples: Sample[]) {
  const adapters = new Set(samples.filter((s) => s.name === 'touchpoint_deliveries_total').map((s) => s.labels.adapter ?? '?'));
  return [...adapters].map((adapter) => ({
    adapter,
    sent: sum(samples, 'touchpoint_deliveries_total', { adapter, outcome: 'sent' }),
    failed: sum(samples, 'touchpoint_deliveries_total', { adapter, outcome: 'failed' }),
    retry: sum(samples, 'touchpoint_deliveries_total', { adapter, outcome: 'retry' }),
  }));
}

function stepsByType(samples: Sample[]) {
  const rows = new Map<string, Record<string, number | string>>();
  for (const s of samples) {
    if (s.name !== 'touchpoint_step_executions_total') continue;
    const type = s.labels.type ?? '?';
    const row = rows.get(type) ?? { type };
    row[s.labels.status ?? '?'] = Number(row[s.labels.status ?? '?'] ?? 0) + s.value;
    rows.set(type, row);
  }
  return [...rows.values()];
}

function Failures({ samples }: { samples: Sample[] }) {
  const rows = samples
    .filter((s) => (s.name === 'touchpoint_deliveries_total' && s.labels.outcome === 'failed') || (s.name === 'touchpoint_step_executions_total' && s.labels.status === 'failed'))
    .filter((s) => s.value > 0);
  return (
    <Paper withBorder p="md" radius="md">
      <Title order={4}>Failures</Title>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">No failed delivery or step since these processes started.</Text>
      ) : (
        <Table fz="sm" aria-label="Failures">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>what</Table.Th>
              <Table.Th>count</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((s, i) => (
              <Table.Tr key={i}>
                <Table.Td>
                  {s.name === 'touchpoint_deliveries_total' ? `${s.labels.channel} via ${s.labels.adapter}` : `${s.labels.type} steps`}
                </Table.Td>
                <Table.Td>{s.value}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

export function MonitoringPage() {
  const { samples, error, isLoading, history } = useMetrics();
  if (isLoading) return <Loader role="status" aria-label="Loading metrics" />;
  if (error || !samples) return <ErrorAlert error={error} title="/metrics cannot be read" />;
  const known = samples.some((s) => s.name.startsWith('touchpoint_'));
  const queue = byLabel(samples, 'touchpoint_queue_jobs', 'state');
  const queueDepth = (queue.waiting ?? 0) + (queue.delayed ?? 0) + (queue.active ?? 0);
  const steps = sum(samples, 'touchpoint_step_executions_total');
  const sent = sum(samples, 'touchpoint_deliveries_total', { outcome: 'sent' });
  const failed = sum(samples, 'touchpoint_deliveries_total', { outcome: 'failed' });
  const deliveries = deliveriesByAdapter(samples);
  return (
    <Stack>
      <Title order={2}>Monitoring</Title>
      <Text size="sm" c="dimmed">
        Live figures of every Touchpoint process (this server and, in distributed mode, each worker), read from{' '}
        <code>/metrics?scope=cluster</code> every 3 seconds: the series Prometheus scrapes from each process, added up.
      </Text>
      {!known && <EmptyState title="No Touchpoint metrics yet">This server exposes no touchpoint_* series; upgrade it or check the metrics plugin.</EmptyState>}
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <Figure label="Steps run" value={String(steps)} />
        <Figure label="Sent" value={String(sent)} />
        <Figure label="Failed sends" value={String(failed)} hint={sent + failed > 0 ? `${((failed / (sent + failed)) * 100).toFixed(1)}%` : undefined} />
        <Figure label="Scheduler lag p95" value={seconds(histogramQuantile(samples, 'touchpoint_scheduler_lag_seconds', 0.95))} hint={`p50 ${seconds(histogramQuantile(samples, 'touchpoint_scheduler_lag_seconds', 0.5))}`} />
        <Figure label="Due / in flight" value={`${sum(samples, 'touchpoint_enrollments_due')} / ${sum(samples, 'touchpoint_enrollments_in_flight')}`} />
        <Figure label="Queue depth" value={Object.keys(queue).length ? String(queueDepth) : '—'} hint={Object.keys(queue).length ? 'waiting + delayed + active' : 'embedded: no queue'} />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {deliveries.length > 0 ? (
          <DeliveriesChart data={deliveries} />
        ) : (
          <EmptyState title="No deliveries yet">Enroll a lead in an active sequence; each email, SMS or call shows up here by adapter.</EmptyState>
        )}
        {steps > 0 && <StepsChart data={stepsByType(samples)} />}
        {steps > 0 && <LagDistributionChart data={histogramBuckets(samples, 'touchpoint_scheduler_lag_seconds')} />}
        <RateChart history={history} />
        <LagChart history={history} />
        <Failures samples={samples} />
      </SimpleGrid>
      <RecentFailures />
    </Stack>
  );
}
