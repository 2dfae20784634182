/**
 * Enroll the selected leads in an active sequence; shows who was enrolled (and which channels a
 * lead will skip for want of an address) and, by name, why others were skipped. The chosen
 * sequence is kept while the dialog is open and remembered for the next time (this browser).
 * Over every lead matching a filter (`filter`) it goes through POST /api/leads/bulk: a dry run's
 * sentence first ("412 leads: 380 will be enrolled; 32 skipped (…)"), then the enrollment.
 */
import { Alert, Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post } from '../api/client.ts';
import type { Body, BulkBody, BulkResult, EnrollResult, LeadFilter, Page, Sequence } from '../api/types.ts';
import { BulkReport, SkippedLeads } from './BulkReport.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Link } from '../router.tsx';

const LAST_SEQUENCE = 'touchpoint.enroll.sequence';
const CHANNEL_NOUN: Record<string, string> = { email: 'email', sms: 'SMS', voice: 'call' };

export function BulkEnroll({
  leadIds,
  filter,
  count,
  names,
  opened,
  onClose,
}: {
  leadIds: string[];
  /** Set: enroll every lead matching it (`count` of them) instead of `leadIds`. */
  filter?: LeadFilter;
  count: number;
  names: Record<string, string>;
  opened: boolean;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const [sequenceId, setSequenceIdState] = useState<string | null>(() => localStorage.getItem(LAST_SEQUENCE));
  const setSequenceId = (id: string | null) => {
    setSequenceIdState(id);
    if (id) localStorage.setItem(LAST_SEQUENCE, id);
  };
  const sequences = useQuery({
    queryKey: ['sequences', 'active'],
    queryFn: () => get<Page<Sequence>>('/api/sequences', { status: 'active', limit: 200 }),
    enabled: opened,
  });
  const enroll = useMutation({
    mutationFn: () => post<EnrollResult>(`/api/sequences/${chosen}/enrollments`, { leadIds } satisfies Body<'/api/sequences/{id}/enrollments', 'post'>),
    onSuccess: () => client.invalidateQueries(),
  });
  const overFilter = (dryRun: boolean) => post<BulkResult>('/api/leads/bulk', { action: 'enroll', sequenceId: chosen!, filter: filter!, dryRun } satisfies BulkBody);
  const preview = useMutation({ mutationFn: () => overFilter(true) });
  const enrollAll = useMutation({ mutationFn: () => overFilter(false), onSuccess: () => client.invalidateQueries() });
  const active = (sequences.data?.items ?? []).filter((s) => s.status === 'active');
  // A remembered sequence that is no longer active is not offered; the choice stays otherwise, even while the list reloads.
  const chosen = sequences.isSuccess && sequenceId && !active.some((s) => s.id === sequenceId) ? null : sequenceId;
  const nameOf = (id: string) => names[id] ?? `Lead ${id.slice(0, 8)}…`;
  const partial = (enroll.data?.enrolled ?? []).filter((e) => e.skipsChannels.length > 0);
  const close = () => onClose();
  return (
    <Modal
      opened={opened}
      onClose={close}
      onExitTransitionEnd={() => [enroll, preview, enrollAll].forEach((m) => m.reset())}
      title={`Enroll ${count.toLocaleString()} lead${count === 1 ? '' : 's'}${filter ? ' matching the filter' : ''}`}
      size="lg"
    >
      <Stack>
        {sequences.isSuccess && active.length === 0 && (
          <Alert color="yellow">
            No sequence is active yet. <Link to="/sequences">Create and activate one</Link> first.
          </Alert>
        )}
        <Select
          label="Sequence"
          placeholder="Choose an active sequence"
          data={active.map((s) => ({ value: s.id, label: s.name }))}
          value={chosen}
          onChange={(id) => {
            setSequenceId(id);
            preview.reset();
          }}
          allowDeselect={false}
          searchable
        />
        <ErrorAlert error={sequences.error ?? enroll.error ?? preview.error ?? enrollAll.error} />
        {filter && preview.data && !enrollAll.data && (
          <Text size="sm" data-testid="enroll-preview">
            {preview.data.sentence}
          </Text>
        )}
        {enrollAll.data && <BulkReport result={enrollAll.data} />}
        {enroll.data && (
          <Stack gap="xs" data-testid="enroll-result">
            <Text>
              Enrolled {enroll.data.enrolled.length}; skipped {enroll.data.skipped.length}.
            </Text>
            {partial.length > 0 && (
              <Text size="sm" data-testid="enroll-partial">
                {partial.map((e) => `${nameOf(e.leadId)} skips the ${e.skipsChannels.map((c) => CHANNEL_NOUN[c] ?? c).join(' and ')} steps (no ${e.skipsChannels.includes('email') ? 'email address' : 'phone number'})`).join('; ')}.
              </Text>
            )}
            <SkippedLeads rows={enroll.data.skipped.map((s) => ({ leadId: s.leadId, name: nameOf(s.leadId), message: s.message || s.reason.replace(/_/g, ' ') }))} />
          </Stack>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {enroll.data || enrollAll.data ? 'Done' : 'Cancel'}
          </Button>
          {filter && !enrollAll.data && (
            <Button
              disabled={!chosen}
              loading={preview.isPending || enrollAll.isPending}
              onClick={() => (preview.data ? enrollAll.mutate() : preview.mutate())}
            >
              {preview.data ? `Enroll ${preview.data.done.toLocaleString()}` : 'Preview'}
            </Button>
          )}
          {!filter && !enroll.data && (
            <Button disabled={!chosen} loading={enroll.isPending} onClick={() => enroll.mutate()}>
              Enroll
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
