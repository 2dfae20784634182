import { Paper, Text, Title } from '@mantine/core';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Point } from './useMetrics.ts';

export function ChartCard({ title, children, note, points }: { title: string; children: React.ReactElement; note?: string; points?: number }) {
  return (
    <Paper withBorder p="md" radius="md" data-testid="chart" data-points={points}>
      <Title order={4} mb={4}>
        {title}
      </Title>
      {note && (
        <Text size="xs" c="dimmed" mb="xs">
          {note}
        </Text>
      )}
      <div style={{ width: '100%', height: 240 }}>
        <ResponsiveContainer>{children}</ResponsiveContainer>
      </div>
    </Paper>
  );
}

export function DeliveriesChart({ data }: { data: Array<{ adapter: string; sent: number; failed: number; retry: number }> }) {
  return (
    <ChartCard title="Deliveries per adapter" note="Since these processes started: sent, failed and retried provider calls.">
      <BarChart data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="adapter" />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Bar dataKey="sent" stackId="a" fill="#40c057" />
        <Bar dataKey="retry" stackId="a" fill="#fab005" />
        <Bar dataKey="failed" stackId="a" fill="#fa5252" />
      </BarChart>
    </ChartCard>
  );
}

export function RateChart({ history }: { history: Point[] }) {
  return (
    <ChartCard title="Step rate" note="Steps run and messages sent per minute, from consecutive scrapes of /metrics." points={history.length}>
      <LineChart data={history}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="time" minTickGap={40} />
        <YAxis allowDecimals />
        <Tooltip />
        <Legend />
        <Line type="monotone" dataKey="stepsPerMin" name="steps/min" stroke="#4c6ef5" dot={false} isAnimationActive={false} />
        <Line type="monotone" dataKey="sendsPerMin" name="sends/min" stroke="#40c057" dot={false} isAnimationActive={false} />
        <Line type="monotone" dataKey="failuresPerMin" name="failures/min" stroke="#fa5252" dot={false} isAnimationActive={false} />
      </LineChart>
    </ChartCard>
  );
}

export function LagChart({ history }: { history: Point[] }) {
  return (
    <ChartCard title="Scheduler lag and backlog" note="Mean time from due to started (ms) between scrapes; enrollments due and in flight." points={history.length}>
      <LineChart data={history}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="time" minTickGap={40} />
        <YAxis yAxisId="ms" />
        <YAxis yAxisId="n" orientation="right" allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Line yAxisId="ms" type="monotone" dataKey="lagMeanMs" name="lag ms" stroke="#fd7e14" dot={false} connectNulls isAnimationActive={false} />
        <Line yAxisId="n" type="stepAfter" dataKey="due" name="due" stroke="#7950f2" dot={false} isAnimationActive={false} />
        <Line yAxisId="n" type="stepAfter" dataKey="inFlight" name="in flight" stroke="#12b886" dot={false} isAnimationActive={false} />
      </LineChart>
    </ChartCard>
  );
}

export function StepsChart({ data }: { data: Array<Record<string, number | string>> }) {
  return (
    <ChartCard title="Steps by type" note="Steps run since these processes started, by step type and execution status.">
      <BarChart data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="type" />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Bar dataKey="succeeded" stackId="s" fill="#40c057" />
        <Bar dataKey="skipped" stackId="s" fill="#adb5bd" />
        <Bar dataKey="unknown" stackId="s" fill="#fd7e14" />
        <Bar dataKey="failed" stackId="s" fill="#fa5252" />
      </BarChart>
    </ChartCard>
  );
}

export function LagDistributionChart({ data }: { data: Array<{ bucket: string; steps: number }> }) {
  return (
    <ChartCard title="Scheduler lag distribution" note="How late steps started after they came due (histogram buckets, since start).">
      <BarChart data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        {/* interval 0: every bucket keeps its label (recharts drops the first one when labels crowd) */}
        <XAxis dataKey="bucket" interval={0} tick={{ fontSize: 11 }} angle={-30} textAnchor="end" height={50} />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Bar dataKey="steps" fill="#fd7e14" />
      </BarChart>
    </ChartCard>
  );
}
