/** The sequence's last 30 days, per UTC day, from `GET /api/reports?sequenceId=…` (docs/ANALYTICS.md, "Reports"). */
import { Paper, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { get } from '../api/client.ts';
import type { Report } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

export function SequenceTrend({ sequenceId }: { sequenceId: string }) {
  const trend = useQuery({
    queryKey: ['sequence', sequenceId, 'trend'],
    queryFn: () => get<Report>('/api/reports', { sequenceId, groupBy: 'day' }),
    refetchInterval: 30_000,
  });
  if (trend.error) return <ErrorAlert error={trend.error} title="The trend is unavailable" />;
  if (!trend.data) return null;
  return (
    <Paper withBorder p="sm" radius="md" data-testid="sequence-trend">
      <Text fw={600} size="sm" mb="xs">
        Last 30 days (UTC)
      </Text>
      <div style={{ width: '100%', height: 200 }}>
        <ResponsiveContainer>
          <LineChart data={trend.data.rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="key" fontSize={11} />
            <YAxis allowDecimals={false} fontSize={11} />
            <Tooltip />
            <Legend />
            <Line type="monotone" dataKey="sent" stroke="#4c6ef5" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="delivered" stroke="#15aabf" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="replied" stroke="#40c057" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </Paper>
  );
}
