/**
 * Saved filters of the Leads page: pick one to apply it, save the current search and status under
 * a name (yours, or shared with the workspace), delete one you may change (yours; an admin: any
 * shared one). GET/POST /api/saved-filters, DELETE /api/saved-filters/{id}.
 */
import { Button, Checkbox, Group, Modal, Select, Stack, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, post } from '../api/client.ts';
import type { LeadFilter, SavedFilter } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

const sameFilter = (a: LeadFilter, b: LeadFilter) => (a.q ?? '') === (b.q ?? '') && (a.status ?? '') === (b.status ?? '');

export function SavedFilters({ filter, onApply }: { filter: LeadFilter; onApply: (filter: LeadFilter) => void }) {
  const client = useQueryClient();
  const saved = useQuery({ queryKey: ['saved-filters'], queryFn: () => get<{ items: SavedFilter[] }>('/api/saved-filters') });
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [deleting, setDeleting] = useState<SavedFilter | null>(null);
  const items = saved.data?.items ?? [];
  // The saved filter that is applied now, if the current search and status are exactly one.
  const current = items.find((f) => sameFilter(f.filter, filter)) ?? null;
  const save = useMutation({
    mutationFn: () => post<SavedFilter>('/api/saved-filters', { name: name.trim(), filter, shared }),
    onSuccess: () => {
      setSaving(false);
      setName('');
      setShared(false);
      return client.invalidateQueries({ queryKey: ['saved-filters'] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/saved-filters/${id}`),
    onSuccess: () => {
      setDeleting(null);
      return client.invalidateQueries({ queryKey: ['saved-filters'] });
    },
  });
  return (
    <Group gap="xs" align="flex-end" wrap="nowrap" data-testid="saved-filters">
      <Select
        label="Saved filter"
        placeholder={items.length === 0 ? 'None saved yet' : 'Choose a saved filter'}
        data={items.map((f) => ({ value: f.id, label: f.mine ? f.name : `${f.name} (shared by ${f.owner})` }))}
        value={current?.id ?? null}
        onChange={(id) => {
          const chosen = items.find((f) => f.id === id);
          if (chosen) onApply(chosen.filter);
        }}
        allowDeselect={false}
        disabled={items.length === 0}
      />
      <Button variant="default" onClick={() => setSaving(true)} disabled={Object.keys(filter).length === 0 || current !== null}>
        Save filter
      </Button>
      {current?.canEdit && (
        <Button variant="subtle" color="red" onClick={() => setDeleting(current)}>
          Delete saved filter
        </Button>
      )}
      <ErrorAlert error={saved.error} title="The saved filters could not be loaded" />
      <Modal opened={saving} onClose={() => setSaving(false)} title="Save this filter">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
        >
          <Stack>
            <TextInput label="Name" required maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
            <Checkbox label="Share with the workspace (everyone sees and applies it; only you or an admin can change it)" checked={shared} onChange={(e) => setShared(e.currentTarget.checked)} />
            <ErrorAlert error={save.error} title="The filter was not saved" labels={{ name: 'Name', filter: 'Filter' }} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setSaving(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={save.isPending} disabled={name.trim() === ''}>
                Save
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
      {deleting && (
        <ConfirmDialog
          opened
          title={`Delete the saved filter "${deleting.name}"?`}
          confirmLabel="Delete saved filter"
          pending={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate(deleting.id)}
          onClose={() => setDeleting(null)}
        >
          {deleting.shared ? 'It is shared: nobody in the workspace will see it any more. The leads are not touched.' : 'The leads are not touched.'}
        </ConfirmDialog>
      )}
    </Group>
  );
}
