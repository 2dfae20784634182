/**
 * A/B variants side by side for each step that has them, with the verdict on their reply rates
 * and the automatic winner once decided (docs/ANALYTICS.md, "A/B variants").
 */
import { Badge, Group, Paper, Stack, Table, Text } from '@mantine/core';
import type { SequenceStats } from '../api/types.ts';

type Step = SequenceStats['steps'][number];
const VERDICT_COLOR: Record<string, string> = { insufficient_data: 'gray', no_winner_yet: 'yellow', winner: 'green' };
const percent = (rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(1)} %`);

export function VariantComparison({ steps }: { steps: Step[] }) {
  const tested = steps.filter((s) => s.abTest);
  if (tested.length === 0) return null;
  return (
    <Stack gap="sm" data-testid="variant-comparison">
      {tested.map((step) => {
        const ab = step.abTest!;
        return (
          <Paper key={step.stepId} withBorder p="sm" radius="md">
            <Group gap="xs" mb="xs">
              <Text fw={600} size="sm">
                {step.stepId}: variants
              </Text>
              <Badge color={VERDICT_COLOR[ab.verdict.status] ?? 'gray'} data-testid="variant-verdict">
                {ab.verdict.status.replace(/_/g, ' ')}
              </Badge>
              {ab.decision && <Badge color="green" variant="outline">winner {ab.decision.variant} decided {ab.decision.decidedAt.slice(0, 10)}</Badge>}
            </Group>
            <Text size="xs" c="dimmed" mb="xs">
              {ab.verdict.summary}
            </Text>
            <Table fz="sm" withTableBorder aria-label={`Variants of ${step.stepId}`}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>variant</Table.Th>
                  <Table.Th>weight</Table.Th>
                  <Table.Th>sent</Table.Th>
                  <Table.Th>delivered</Table.Th>
                  <Table.Th>opened</Table.Th>
                  <Table.Th>replied</Table.Th>
                  <Table.Th>reply rate</Table.Th>
                  <Table.Th>confidence vs leader</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {ab.variants.map((v) => {
                  const comparison = ab.verdict.comparisons.find((c) => c.against === v.id);
                  return (
                    <Table.Tr key={v.id}>
                      <Table.Td>
                        {v.id} {ab.verdict.leader === v.id && <Badge size="xs">leader</Badge>}
                      </Table.Td>
                      <Table.Td>{v.weight ?? 'retired'}</Table.Td>
                      <Table.Td>{v.sent}</Table.Td>
                      <Table.Td>{v.delivered}</Table.Td>
                      <Table.Td>{v.opened}</Table.Td>
                      <Table.Td>{v.replied}</Table.Td>
                      <Table.Td>{percent(v.rates.reply)}</Table.Td>
                      <Table.Td>{comparison ? percent(comparison.confidence) : ''}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Paper>
        );
      })}
    </Stack>
  );
}
