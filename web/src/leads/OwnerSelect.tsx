/**
 * Lead owners in the dashboard (docs/DASHBOARD.md, "Owners"): the members to choose from, a
 * picker for one owner (the lead page, "Set owner" over a selection), the Leads list's owner
 * filter (me / a member / unowned) and the owner's name as a cell shows it.
 */
import { Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, patch, post } from '../api/client.ts';
import type { Body, BulkBody, BulkResult, LeadOwner, Member } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import type { BulkScope } from './BulkActions.tsx';

const UNOWNED = 'none';

export function useMembers() {
  return useQuery({ queryKey: ['members'], queryFn: async () => (await get<{ items: Member[] }>('/api/members')).items, staleTime: 30_000 });
}

const memberLabel = (m: { name: string | null; email: string }) => (m.name ? `${m.name} (${m.email})` : m.email);

export function ownerName(owner: LeadOwner | null | undefined): string {
  return owner ? (owner.name ?? owner.email) : 'Unowned';
}

/** One owner: a member, or unowned (value null). */
export function OwnerSelect({ value, onChange, label = 'Owner', disabled }: { value: string | null; onChange: (ownerId: string | null) => void; label?: string; disabled?: boolean }) {
  const members = useMembers();
  const data = [{ value: UNOWNED, label: 'Unowned' }, ...(members.data ?? []).map((m) => ({ value: m.userId, label: memberLabel(m) }))];
  return (
    <Select
      label={label}
      data={data}
      value={value ?? UNOWNED}
      onChange={(v) => onChange(v === UNOWNED || v === null ? null : v)}
      allowDeselect={false}
      searchable
      disabled={disabled || members.isLoading}
      data-testid="owner-select"
    />
  );
}

/** The Leads list's filter (and the Reports page's): any owner (null), `me` (a signed-in person), `none`, or a member's id. */
export function OwnerFilter({
  value,
  onChange,
  mine = 'My leads',
  w,
  disabled,
}: {
  value: string | null;
  onChange: (owner: string | null) => void;
  mine?: string;
  w?: number;
  disabled?: boolean;
}) {
  const members = useMembers();
  const auth = useAuth();
  const person = Boolean(auth.me?.user);
  const data = [
    ...(person ? [{ value: 'me', label: mine }] : []),
    { value: UNOWNED, label: 'Unowned' },
    ...(members.data ?? []).map((m) => ({ value: m.userId, label: memberLabel(m) })),
  ];
  return <Select label="Owner" placeholder="Any owner" data={data} value={value} onChange={onChange} clearable searchable w={w} disabled={disabled} data-testid="owner-filter" />;
}

/** "Set owner" over the selected leads or every lead matching the filter: one call (POST /api/leads/bulk, action `owner`), then how many changed. */
export function SetOwnerButton({ scope, count, onDone }: { scope: BulkScope; count: number; onDone: () => void }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [ownerId, setOwnerId] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: async () => {
      const result = await post<BulkResult>('/api/leads/bulk', { action: 'owner', ownerId, ...scope } satisfies BulkBody);
      return { changed: result.done, of: result.matched };
    },
    onSuccess: () => {
      setOpen(false);
      onDone();
      return client.invalidateQueries({ queryKey: ['leads'] });
    },
  });
  const n = count;
  return (
    <>
      <Button size="xs" variant="default" disabled={n === 0} onClick={() => setOpen(true)}>
        Set owner
      </Button>
      {save.data && (
        <Text size="sm" data-testid="owner-result">
          Owner changed on {save.data.changed} of {save.data.of} lead{save.data.of === 1 ? '' : 's'}.
        </Text>
      )}
      <Modal opened={open} onClose={() => setOpen(false)} title={`Set the owner of ${n} lead${n === 1 ? '' : 's'}`}>
        <Stack>
          <OwnerSelect value={ownerId} onChange={setOwnerId} label="New owner" />
          <ErrorAlert error={save.error} title="The owner was not changed" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button loading={save.isPending} onClick={() => save.mutate()}>
              Set owner
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** The lead page's owner: shown to everyone, changed at once by an operator (PATCH /api/leads/{id}). */
export function LeadOwnerField({ leadId, owner }: { leadId: string; owner: LeadOwner | null }) {
  const auth = useAuth();
  const client = useQueryClient();
  const change = useMutation({
    mutationFn: (ownerId: string | null) => patch(`/api/leads/${leadId}`, { ownerId } satisfies Body<'/api/leads/{id}', 'patch'>),
    onSuccess: () => client.invalidateQueries({ queryKey: ['lead', leadId] }),
  });
  if (!auth.can('operator')) {
    return (
      <div>
        <Text size="xs" c="dimmed">
          Owner
        </Text>
        <Text size="sm" data-testid="lead-owner-name">
          {ownerName(owner)}
        </Text>
      </div>
    );
  }
  return (
    <Stack gap={4}>
      <OwnerSelect value={owner?.id ?? null} onChange={(ownerId) => change.mutate(ownerId)} disabled={change.isPending} />
      <ErrorAlert error={change.error} title="The owner was not changed" />
    </Stack>
  );
}
