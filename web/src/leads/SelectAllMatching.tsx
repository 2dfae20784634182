/**
 * Once rows are selected: "Select all N leads matching this filter", and then the way back to the
 * selection. N comes from GET /api/leads/count; past the bulk cap the offer says to narrow the filter.
 */
import { Anchor, Group, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import type { LeadCount, LeadFilter } from '../api/types.ts';

export function SelectAllMatching({
  filter,
  active,
  onChange,
}: {
  filter: LeadFilter;
  active: boolean;
  onChange: (all: boolean, count: number) => void;
}) {
  const count = useQuery({ queryKey: ['leads', 'count', filter], queryFn: () => get<LeadCount>('/api/leads/count', filter) });
  if (!count.data) return null;
  const n = count.data.count;
  const what = Object.keys(filter).length > 0 ? 'matching this filter' : 'in the workspace';
  if (active) {
    return (
      <Group gap="xs" data-testid="select-all-matching">
        <Text size="sm" fw={500}>
          All {n.toLocaleString()} leads {what} are selected.
        </Text>
        <Anchor component="button" type="button" size="sm" onClick={() => onChange(false, n)}>
          Select only the rows ticked
        </Anchor>
      </Group>
    );
  }
  if (count.data.atLeast) {
    return (
      <Text size="sm" c="dimmed" data-testid="select-all-matching">
        More than {(n - 1).toLocaleString()} leads {what}: narrow the filter to act on all of them at once.
      </Text>
    );
  }
  return (
    <Anchor component="button" type="button" size="sm" data-testid="select-all-matching" onClick={() => onChange(true, n)}>
      Select all {n.toLocaleString()} leads {what}
    </Anchor>
  );
}
