/**
 * Pause, cancel or delete over the selected leads or over every lead matching the filter, through
 * POST /api/leads/bulk: a dry run first, whose sentence the confirm dialog shows ("412 leads: 37
 * running sequences of 30 leads will stop…"), then the action, reported with the leads it
 * skipped and why.
 */
import { Button, Group } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../api/client.ts';
import type { BulkBody, BulkResult, LeadFilter, LeadListItem } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { BulkReport } from './BulkReport.tsx';
import { SetOwnerButton } from './OwnerSelect.tsx';

type BulkAction = 'pause' | 'cancel' | 'delete';

const PAUSABLE = new Set(['active', 'waiting']);

/** What a bulk action covers: leads by id, or every lead matching a filter. */
export type BulkScope = { leadIds: string[] } | { filter: LeadFilter };

const TITLES: Record<BulkAction, string> = { pause: 'Pause the sequences of', cancel: 'Cancel the sequences of', delete: 'Delete' };
const LABELS: Record<BulkAction, string> = { pause: 'Pause', cancel: 'Cancel sequences', delete: 'Delete leads' };

export function BulkActions({ scope, leads, count, onDone }: { scope: BulkScope; leads: LeadListItem[]; count: number; onDone: () => void }) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState<{ action: BulkAction; preview: BulkResult } | null>(null);
  const call = (action: BulkAction, extra: Partial<BulkBody>) => post<BulkResult>('/api/leads/bulk', { action, ...scope, ...extra } satisfies BulkBody);
  const preview = useMutation({
    mutationFn: async (action: BulkAction) => ({ action, preview: await call(action, { dryRun: true }) }),
    onSuccess: setConfirming,
  });
  const act = useMutation({
    mutationFn: ({ action, reason }: { action: BulkAction; reason?: string }) => call(action, { reason }),
    onSuccess: () => {
      setConfirming(null);
      onDone();
      return client.invalidateQueries();
    },
  });
  // Over a selection the buttons say whether there is anything to do; over a filter the dry run says it.
  const byFilter = 'filter' in scope;
  const live = leads.flatMap((l) => l.liveEnrollments);
  const canPause = byFilter || live.some((e) => PAUSABLE.has(e.status));
  const canCancel = byFilter || live.length > 0;
  const leadsWord = `${count.toLocaleString()} lead${count === 1 ? '' : 's'}`;
  const ask = (action: BulkAction) => {
    act.reset();
    preview.mutate(action);
  };
  return (
    <>
      <Group gap="xs" data-testid="bulk-actions">
        <Button size="xs" variant="default" disabled={!canPause || count === 0} loading={preview.isPending && preview.variables === 'pause'} onClick={() => ask('pause')}>
          Pause
        </Button>
        <Button size="xs" variant="default" color="red" disabled={!canCancel || count === 0} loading={preview.isPending && preview.variables === 'cancel'} onClick={() => ask('cancel')}>
          Cancel sequences
        </Button>
        <Button size="xs" variant="light" color="red" disabled={count === 0} loading={preview.isPending && preview.variables === 'delete'} onClick={() => ask('delete')}>
          Delete
        </Button>
        <SetOwnerButton scope={scope} count={count} onDone={onDone} />
      </Group>
      <ErrorAlert error={preview.error} title="The action could not be previewed" />
      {act.data && <BulkReport result={act.data} />}
      {confirming && (
        <ConfirmDialog
          opened
          title={`${TITLES[confirming.action]} ${leadsWord}?`}
          confirmLabel={LABELS[confirming.action]}
          withReason={confirming.action !== 'delete'}
          pending={act.isPending}
          error={act.error}
          onConfirm={(reason) => act.mutate({ action: confirming.action, reason })}
          onClose={() => setConfirming(null)}
        >
          {confirming.preview.sentence}
          {confirming.action === 'cancel' ? " Each cancel can be undone from the lead's page for 60 seconds." : ''}
        </ConfirmDialog>
      )}
    </>
  );
}
