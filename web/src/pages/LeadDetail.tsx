import { Button, Grid, Group, Loader, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, post } from '../api/client.ts';
import type { Answer, ConvertLeadResult, Lead } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { isNotFound, looksLikeId, NotFound } from '../components/NotFound.tsx';
import { leadName } from '../components/format.ts';
import { EnrollmentCard } from '../lead/EnrollmentCard.tsx';
import { LogActivity } from '../lead/LogActivity.tsx';
import { LeadTimeline } from '../lead/Timeline.tsx';
import { CompletenessBadge } from '../leads/CompletenessBadge.tsx';
import { LeadStatusBadge } from '../leads/LeadStatusBadge.tsx';
import { LeadOwnerField } from '../leads/OwnerSelect.tsx';
import { Link, navigate } from '../router.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

function Field({ label, value }: { label: string; value: unknown }) {
  return (
    <div style={{ minWidth: 0 }}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      {/* A long email wraps inside its cell rather than running under the next field. */}
      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
        {value === null || value === undefined || value === '' ? '—' : String(value)}
      </Text>
    </div>
  );
}

/** What converting or deleting the lead does, with the sequences it touches by name. */
function LeadConsequences({ action, running, total }: { action: 'convert' | 'delete'; running: string[]; total: number }) {
  const list = running.map((n) => `“${n}”`).join(', ');
  if (action === 'convert') {
    return (
      <Stack gap={4}>
        <Text size="sm">The lead’s status becomes converted.</Text>
        <Text size="sm" fw={500}>
          {running.length === 0
            ? 'No sequence is running for this lead.'
            : `${running.length} running sequence${running.length === 1 ? '' : 's'} (${list}) end${running.length === 1 ? 's' : ''} if ${running.length === 1 ? 'its' : 'their'} exit rules list “converted” (the default); their scheduled steps will not run.`}
        </Text>
        <Text size="sm" c="dimmed">A conversion cannot be undone.</Text>
      </Stack>
    );
  }
  return (
    <Stack gap={4}>
      <Text size="sm">The lead, its {total} enrollment{total === 1 ? '' : 's'}, its timeline and its activities are deleted.</Text>
      {running.length > 0 && (
        <Text size="sm" fw={500}>
          {running.length} running sequence{running.length === 1 ? '' : 's'} ({list}) stop{running.length === 1 ? 's' : ''} at once: no scheduled step of {running.length === 1 ? 'it' : 'them'} will run.
        </Text>
      )}
      <Text size="sm" c="dimmed">Opt-outs of its email and phone stay. A deletion cannot be undone.</Text>
    </Stack>
  );
}

export function LeadDetailPage({ id }: { id: string }) {
  const auth = useAuth();
  const client = useQueryClient();
  // The status follows what happens (a send, a reply, a STOP): refreshed by live notices, polled while they are down.
  const valid = looksLikeId(id);
  const every = useLiveInterval(2_000);
  const lead = useQuery({ queryKey: ['lead', id], queryFn: () => get<Lead>(`/api/leads/${id}`), refetchInterval: (q) => (q.state.error ? false : every), enabled: valid });
  const [confirming, setConfirming] = useState<'convert' | 'delete' | null>(null);
  const convert = useMutation({
    mutationFn: () => post<ConvertLeadResult>(`/api/leads/${id}/convert`),
    onSuccess: () => {
      setConfirming(null);
      return client.invalidateQueries({ queryKey: ['lead', id] });
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/api/leads/${id}`),
    onSuccess: () => {
      setConfirming(null);
      client.removeQueries({ queryKey: ['lead', id] });
      void client.invalidateQueries({ queryKey: ['leads'] });
      navigate('/leads');
    },
  });
  const enrollments = useQuery({
    queryKey: ['lead', id, 'enrollments'],
    queryFn: async () => (await get<Answer<'/api/leads/{id}/sequences', 'get'>>(`/api/leads/${id}/sequences`)).items,
    refetchInterval: every,
    enabled: valid && lead.isSuccess,
  });
  if (!valid || isNotFound(lead.error)) return <NotFound what="Lead" back="/leads" backLabel="Back to the leads" />;
  if (lead.isLoading) return <Loader role="status" aria-label="Loading the lead" />;
  if (lead.error || !lead.data) {
    return (
      <Stack>
        <ErrorAlert error={lead.error ?? new Error('No such lead.')} title="This lead cannot be shown" />
        <Link to="/leads">Back to the leads</Link>
      </Stack>
    );
  }
  const l = lead.data;
  const custom = Object.entries(l.customFields ?? {});
  return (
    <Stack>
      <Group justify="space-between">
        <Stack gap={0}>
          <Text size="sm">
            <Link to="/leads">← Leads</Link>
          </Text>
          <Group gap="xs">
            <Title order={2} data-testid="lead-name">
              {leadName(l)}
            </Title>
            <LeadStatusBadge status={l.status} />
          </Group>
          <Text c="dimmed">{[l.title, l.company].filter(Boolean).join(' at ')}</Text>
        </Stack>
        <Group gap="xs">
          {auth.can('operator') && l.status !== 'converted' && (
            <Button
              variant="light"
              color="teal"
              loading={convert.isPending}
              onClick={() => setConfirming('convert')}
              title="Sets the lead converted and ends every sequence whose exit rules list “converted”"
            >
              Mark lead converted
            </Button>
          )}
          {auth.can('operator') && (
            <Button variant="subtle" color="red" onClick={() => setConfirming('delete')}>
              Delete lead
            </Button>
          )}
          <CompletenessBadge lead={l} />
        </Group>
      </Group>
      {confirming && (
        <ConfirmDialog
          opened
          title={confirming === 'convert' ? `Mark ${leadName(l)} converted?` : `Delete ${leadName(l)}?`}
          confirmLabel={confirming === 'convert' ? 'Mark converted' : 'Delete lead'}
          pending={convert.isPending || remove.isPending}
          error={confirming === 'convert' ? convert.error : remove.error}
          onConfirm={() => (confirming === 'convert' ? convert.mutate() : remove.mutate())}
          onClose={() => {
            setConfirming(null);
            convert.reset();
            remove.reset();
          }}
        >
          <LeadConsequences action={confirming} running={(enrollments.data ?? []).filter((e) => ['active', 'waiting', 'paused'].includes(e.status)).map((e) => e.sequenceName)} total={enrollments.data?.length ?? 0} />
        </ConfirmDialog>
      )}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <Paper withBorder p="md" radius="md" aria-label="Profile">
              <SimpleGrid cols={2} spacing="sm">
                <Field label="Email" value={l.email} />
                <Field label="Phone" value={l.phone} />
                <Field label="Time zone" value={l.timezone} />
                <LeadOwnerField leadId={l.id} owner={l.owner} />
                {custom.map(([key, value]) => (
                  <Field key={key} label={key} value={typeof value === 'object' ? JSON.stringify(value) : value} />
                ))}
              </SimpleGrid>
            </Paper>
            <Title order={3}>Sequences</Title>
            <ErrorAlert error={enrollments.error} title="The enrollments could not be loaded" />
            {enrollments.isSuccess && enrollments.data.length === 0 && (
              <EmptyState title="Not in any sequence">
                Select this lead on the <Link to="/leads">Leads</Link> page and choose “Enroll in a sequence”.
              </EmptyState>
            )}
            {enrollments.data?.map((e) => <EnrollmentCard key={e.id} enrollment={e} leadZone={l.timezone} />)}
            {auth.can('operator') && <LogActivity leadId={id} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <LeadTimeline leadId={id} zone={l.timezone} leadEmail={l.email} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
