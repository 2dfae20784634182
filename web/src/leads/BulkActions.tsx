/**
 * Pause, cancel or delete over the selected leads, each asked first with what will happen
 * ("4 running sequences stop: their scheduled steps will not run"), then done one call at a time
 * and reported: how many, and each refusal with its reason.
 */
import { Button, Group, List, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, put } from '../api/client.ts';
import type { LeadListItem } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { leadName } from '../components/format.ts';
import { SetOwnerButton } from './OwnerSelect.tsx';

type BulkAction = 'pause' | 'cancel' | 'delete';

const PAUSABLE = new Set(['active', 'waiting']);

interface Outcome {
  done: number;
  refused: string[];
}

async function run(action: BulkAction, leads: LeadListItem[], reason: string | undefined): Promise<Outcome> {
  const outcome: Outcome = { done: 0, refused: [] };
  for (const lead of leads) {
    try {
      if (action === 'delete') {
        await del(`/api/leads/${lead.id}`);
        outcome.done += 1;
        continue;
      }
      for (const e of lead.liveEnrollments) {
        if (action === 'pause' && !PAUSABLE.has(e.status)) continue;
        await put(`/api/sequences/enrollments/${e.id}`, { action, reason });
        outcome.done += 1;
      }
    } catch (error) {
      outcome.refused.push(`${leadName(lead)}: ${(error as Error).message}`);
    }
  }
  return outcome;
}

export function BulkActions({ leads, onDone }: { leads: LeadListItem[]; onDone: () => void }) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState<BulkAction | null>(null);
  const act = useMutation({
    mutationFn: ({ action, reason }: { action: BulkAction; reason?: string }) => run(action, leads, reason),
    onSuccess: () => {
      setConfirming(null);
      onDone();
      return client.invalidateQueries();
    },
  });
  const live = leads.flatMap((l) => l.liveEnrollments);
  const pausable = live.filter((e) => PAUSABLE.has(e.status));
  const n = leads.length;
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const consequences: Record<BulkAction, string> = {
    pause: `${plural(pausable.length, 'running sequence')} of ${plural(n, 'lead')} pause: nothing is sent until someone resumes them.`,
    cancel: `${plural(live.length, 'running sequence')} of ${plural(n, 'lead')} stop: their scheduled steps will not run. Each cancel can be undone from the lead's page for 60 seconds.`,
    delete: `${plural(n, 'lead')} ${n === 1 ? 'is' : 'are'} deleted with their enrollments, timelines and activities; ${plural(live.length, 'running sequence')} stop at once. Opt-outs stay. A deletion cannot be undone.`,
  };
  return (
    <>
      <Group gap="xs" data-testid="bulk-actions">
        <Button size="xs" variant="default" disabled={pausable.length === 0} onClick={() => setConfirming('pause')}>
          Pause
        </Button>
        <Button size="xs" variant="default" color="red" disabled={live.length === 0} onClick={() => setConfirming('cancel')}>
          Cancel sequences
        </Button>
        <Button size="xs" variant="light" color="red" disabled={n === 0} onClick={() => setConfirming('delete')}>
          Delete
        </Button>
        <SetOwnerButton leadIds={leads.map((l) => l.id)} onDone={onDone} />
      </Group>
      {act.data && (
        <Text size="sm" data-testid="bulk-result">
          Done: {act.data.done}.{' '}
          {act.data.refused.length > 0 && (
            <List size="sm">
              {act.data.refused.map((r) => (
                <List.Item key={r}>{r}</List.Item>
              ))}
            </List>
          )}
        </Text>
      )}
      {confirming && (
        <ConfirmDialog
          opened
          title={confirming === 'pause' ? `Pause ${plural(n, 'lead')}?` : confirming === 'cancel' ? `Cancel the sequences of ${plural(n, 'lead')}?` : `Delete ${plural(n, 'lead')}?`}
          confirmLabel={confirming === 'pause' ? 'Pause' : confirming === 'cancel' ? 'Cancel sequences' : 'Delete leads'}
          withReason={confirming !== 'delete'}
          pending={act.isPending}
          error={act.error}
          onConfirm={(reason) => act.mutate({ action: confirming, reason })}
          onClose={() => setConfirming(null)}
        >
          {consequences[confirming]}
        </ConfirmDialog>
      )}
    </>
  );
}
