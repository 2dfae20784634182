/**
 * The dry run: a chosen lead plus hypothetical events ("opened 2 hours after the start") give
 * the projected timeline, computed by the same decisions the engine makes. Nothing is sent.
 */
import { Badge, Button, Group, NumberInput, Paper, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post } from '../api/client.ts';
import { EVENT_TYPES, type EventType } from '../../../src/core/events.ts';
import type { Body, Lead, Page, Preview, Sequence } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, leadName } from '../components/format.ts';

interface Hypothetical {
  type: EventType;
  hours: number;
  step: string;
  outcome: string;
}

export function SequencePreview({ sequence }: { sequence: Sequence }) {
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const [leadId, setLeadId] = useState<string | null>(null);
  const [version, setVersion] = useState<string | null>(String(sequence.currentVersion ?? 1));
  const [events, setEvents] = useState<Hypothetical[]>([]);
  const leads = useQuery({ queryKey: ['leads', 'pick', q], queryFn: () => get<Page<Lead>>('/api/leads', { q, limit: 20 }) });
  const chosen = leads.data?.items.find((l) => l.id === leadId);
  const run = useMutation({
    mutationFn: () => {
      const start = new Date();
      return post<Preview>(`/api/sequences/${sequence.id}/preview`, {
        leadId: leadId ?? undefined,
        version: version ? Number(version) : undefined,
        start: start.toISOString(),
        events: events.map((e) => ({
          type: e.type,
          at: new Date(start.getTime() + e.hours * 3_600_000).toISOString(),
          step: e.step || undefined,
          outcome: e.outcome || undefined,
        })),
      } satisfies Body<'/api/sequences/{id}/preview', 'post'>);
    },
  });
  const versions = Array.from({ length: sequence.currentVersion ?? 1 }, (_, i) => String(i + 1));
  const update = (i: number, patch: Partial<Hypothetical>) => setEvents(events.map((e, j) => (j === i ? { ...e, ...patch } : e)));

  return (
    <Stack>
      <Group grow preventGrowOverflow={false} wrap="wrap" align="flex-end">
        <TextInput label="Find a lead" placeholder="Name, email or company" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
        <Select
          label="Lead"
          placeholder={leads.data?.items.length ? 'Choose a lead' : 'No lead matches; import leads first'}
          data={(leads.data?.items ?? []).map((l) => ({ value: l.id, label: `${leadName(l)}${l.email ? ` <${l.email}>` : ''}` }))}
          value={leadId}
          onChange={setLeadId}
          searchable
        />
        <Select label="Version" data={versions} value={version} onChange={setVersion} allowDeselect={false} />
      </Group>
      <Paper withBorder p="sm" radius="md">
        <Stack gap="xs">
          <Text size="sm" fw={500}>
            Hypothetical events
          </Text>
          {events.length === 0 && <Text size="sm" c="dimmed">None: the lead never opens, replies or answers. Add events to see the other branches.</Text>}
          {events.map((e, i) => (
            <Group key={i} gap="xs" align="flex-end" wrap="wrap">
              <Select label="Event" data={EVENT_TYPES} value={e.type} onChange={(v) => update(i, { type: (v as EventType | null) ?? e.type })} w={190} allowDeselect={false} />
              <NumberInput label="Hours after start" value={e.hours} min={0} onChange={(v) => update(i, { hours: Number(v) || 0 })} w={140} />
              <TextInput label="Step (optional)" value={e.step} onChange={(ev) => update(i, { step: ev.currentTarget.value })} w={130} />
              <TextInput label="Outcome (manual.outcome)" value={e.outcome} onChange={(ev) => update(i, { outcome: ev.currentTarget.value })} w={170} />
              <Button variant="subtle" color="red" onClick={() => setEvents(events.filter((_, j) => j !== i))} aria-label={`Remove event ${i + 1}`}>
                ✕
              </Button>
            </Group>
          ))}
          <Group>
            <Button size="xs" variant="light" onClick={() => setEvents([...events, { type: 'email.opened', hours: 2, step: '', outcome: '' }])}>
              Add event
            </Button>
          </Group>
        </Stack>
      </Paper>
      <Group>
        <Button onClick={() => run.mutate()} disabled={!leadId} loading={run.isPending}>
          Run preview
        </Button>
      </Group>
      <ErrorAlert error={run.error} title="The preview failed" />
      {run.data && (
        <Table withTableBorder fz="sm" aria-label="Projected timeline" data-testid="preview-timeline">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>when (lead's time)</Table.Th>
              <Table.Th>step</Table.Th>
              <Table.Th>action</Table.Th>
              <Table.Th>detail</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {run.data.entries.map((e, i) => (
              <Table.Tr key={i}>
                <Table.Td>{formatAt(e.at, chosen?.timezone)}</Table.Td>
                <Table.Td>
                  {e.stepId ?? '—'} <Text span size="xs" c="dimmed">{e.type}</Text>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light">{e.action}</Badge>
                </Table.Td>
                <Table.Td>{e.detail}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
