/**
 * "Insert variable": a lead field, one of the workspace's custom fields, the sender's or the
 * sequence's, with the fallback the lead sees when it lacks the field. The Liquid is written by
 * the core (`variableTag`), the list comes from `GET /api/leads/fields`.
 */
import { Button, Popover, Select, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { variableTag } from '../../../src/core/templateVariables.ts';
import { get } from '../api/client.ts';
import type { TemplateFields } from '../api/types.ts';

const GROUPS = ['Lead', 'Custom fields', 'Sender', 'Sequence'] as const;

export function useTemplateFields() {
  // The keys change only when leads are imported: once a minute is plenty.
  return useQuery({ queryKey: ['leads', 'fields'], queryFn: () => get<TemplateFields>('/api/leads/fields'), staleTime: 60_000 });
}

export function VariablePicker({ fieldLabel, onInsert, disabled }: { fieldLabel: string; onInsert: (tag: string) => void; disabled?: boolean }) {
  const [opened, setOpened] = useState(false);
  const [path, setPath] = useState<string | null>(null);
  const [fallback, setFallback] = useState('');
  const fields = useTemplateFields();
  const variables = fields.data?.variables ?? [];
  const data = GROUPS.map((group) => ({
    group,
    items: variables.filter((v) => v.group === group).map((v) => ({ value: v.path, label: `${v.label} (${v.path})` })),
  })).filter((g) => g.items.length > 0);
  const insert = () => {
    if (!path) return;
    onInsert(variableTag(path, fallback.trim()));
    setOpened(false);
    setPath(null);
    setFallback('');
  };

  return (
    <Popover opened={opened} onChange={setOpened} position="bottom-start" withArrow trapFocus shadow="md" width={320}>
      <Popover.Target>
        <Button size="compact-xs" variant="light" onClick={() => setOpened((o) => !o)} disabled={disabled} aria-label={`Insert variable into ${fieldLabel}`}>
          <span aria-hidden="true">{'{ }'}&nbsp;</span>Insert variable
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs" role="group" aria-label={`Variable for ${fieldLabel}`}>
          <Select
            label="Variable"
            placeholder={fields.isLoading ? 'Loading…' : 'Choose a field'}
            data={data}
            value={path}
            onChange={setPath}
            searchable
            comboboxProps={{ withinPortal: false }}
          />
          <TextInput
            label="Fallback"
            description="Shown when the lead lacks the field; leave empty to refuse such leads at enrollment"
            placeholder="there"
            value={fallback}
            onChange={(e) => setFallback(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') insert();
            }}
          />
          {path && (
            <Text size="xs" c="dimmed" ff="monospace" data-testid="variable-tag">
              {variableTag(path, fallback.trim())}
            </Text>
          )}
          <Button size="xs" onClick={insert} disabled={!path}>
            Insert
          </Button>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
