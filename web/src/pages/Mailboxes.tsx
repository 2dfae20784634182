/**
 * Mailboxes (docs/MAILBOXES.md): the reps' own SMTP accounts that sequences send from. Everyone
 * sees each one's sender, today's usage against today's limit (the warm-up ramp applied) and
 * whether IMAP reads its replies; admins add one, test its login (the server's one sentence),
 * change its limits, its sender and servers (passwords write-only: empty keeps the stored one;
 * after a save the page offers the test) and delete it.
 */
import { Alert, Badge, Button, Group, NumberInput, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, patch, post } from '../api/client.ts';
import type { Body, Mailbox, MailboxTest } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { fieldErrors } from '../components/fieldErrors.ts';
import { relative } from '../components/format.ts';
import { EditMailbox } from '../mailboxes/EditMailbox.tsx';
import { NewMailbox } from '../mailboxes/NewMailbox.tsx';
import { useLiveInterval } from '../live/LiveUpdates.tsx';

const LIMIT_LABELS = {
  dailyLimit: 'Daily limit',
  minGapSeconds: 'Seconds between sends',
  warmup: 'Warm-up',
};

const asNumber = (value: number | string) => (typeof value === 'number' ? value : Number.NaN);

function EditLimits({ mailbox, onDone }: { mailbox: Mailbox; onDone: () => void }) {
  const client = useQueryClient();
  const [dailyLimit, setDailyLimit] = useState<number | string>(mailbox.dailyLimit);
  const [minGapSeconds, setMinGapSeconds] = useState<number | string>(mailbox.minGapSeconds);
  const [warmingUp, setWarmingUp] = useState(mailbox.warmup !== null);
  const [startLimit, setStartLimit] = useState<number | string>(mailbox.warmup?.startLimit ?? 10);
  const [days, setDays] = useState<number | string>(mailbox.warmup?.days ?? 30);
  // Sending `warmup` (again) restarts the ramp today, so it is sent only when it changed.
  const warmup = warmingUp ? { startLimit: asNumber(startLimit), days: asNumber(days) } : null;
  const warmupChanged = warmup === null ? mailbox.warmup !== null : warmup.startLimit !== mailbox.warmup?.startLimit || warmup.days !== mailbox.warmup?.days;
  const save = useMutation({
    mutationFn: () =>
      patch<Mailbox>(`/api/mailboxes/${mailbox.id}`, {
        dailyLimit: asNumber(dailyLimit),
        minGapSeconds: asNumber(minGapSeconds),
        ...(warmupChanged ? { warmup } : {}),
      } satisfies Body<'/api/mailboxes/{id}', 'patch'>),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['mailboxes'] });
      onDone();
    },
  });
  const errors = fieldErrors(save.error, LIMIT_LABELS);
  return (
    <Stack gap="xs">
      <Group align="flex-start" wrap="wrap">
        <NumberInput label="Daily limit" min={0} max={10_000} value={dailyLimit} onChange={setDailyLimit} error={errors.byField.dailyLimit} />
        <NumberInput label="Seconds between sends" min={0} max={86_400} value={minGapSeconds} onChange={setMinGapSeconds} error={errors.byField.minGapSeconds} />
      </Group>
      <Switch
        label="Warm up: ramp from a small limit to the daily limit"
        description={warmupChanged && warmingUp ? 'Saving starts the ramp again from today.' : undefined}
        checked={warmingUp}
        error={errors.byField.warmup}
        onChange={(e) => setWarmingUp(e.currentTarget.checked)}
      />
      {warmingUp && (
        <Group align="flex-start" wrap="wrap">
          <NumberInput label="First day’s limit" min={1} max={10_000} value={startLimit} onChange={setStartLimit} />
          <NumberInput label="Days to reach the daily limit" min={1} max={365} value={days} onChange={setDays} />
        </Group>
      )}
      <Group gap="xs">
        <Button size="xs" onClick={() => save.mutate()} loading={save.isPending}>Save limits</Button>
        <Button size="xs" variant="default" onClick={onDone}>Cancel</Button>
      </Group>
      <ErrorAlert error={save.error} labels={LIMIT_LABELS} shownByFields title="The limits were refused" />
    </Stack>
  );
}

function MailboxCard({ mailbox }: { mailbox: Mailbox }) {
  const auth = useAuth();
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [editingServers, setEditingServers] = useState(false);
  const [saved, setSaved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const test = useMutation({ mutationFn: () => post<MailboxTest>(`/api/mailboxes/${mailbox.id}/test`) });
  const remove = useMutation({
    mutationFn: () => del(`/api/mailboxes/${mailbox.id}`),
    onSuccess: async () => {
      setConfirming(false);
      await client.invalidateQueries({ queryKey: ['mailboxes'] });
    },
  });
  const { today } = mailbox;
  const full = today.sent >= today.limit;
  return (
    <Paper withBorder p="md" radius="md" data-testid="mailbox">
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap">
          <div>
            <Text fw={600}>{mailbox.name}</Text>
            <Text size="sm">{mailbox.fromName ? `${mailbox.fromName} <${mailbox.fromEmail}>` : mailbox.fromEmail}</Text>
          </div>
          <Group gap="xs">
            <Badge variant="light" color={full ? 'orange' : 'blue'} data-testid="mailbox-usage">
              {today.sent} / {today.limit} today
            </Badge>
            <Badge variant="light" color={mailbox.imap ? 'green' : 'gray'}>{mailbox.imap ? 'IMAP on' : 'IMAP off'}</Badge>
            {mailbox.inbox && (
              <Badge variant="light" color={mailbox.inbox.lastError ? 'red' : mailbox.inbox.watching ? 'green' : 'gray'} data-testid="mailbox-health">
                {mailbox.inbox.lastError ? 'Inbox failing' : mailbox.inbox.watching ? 'Inbox watched' : 'Inbox not watched yet'}
              </Badge>
            )}
          </Group>
        </Group>
        <Text size="xs" c="dimmed" data-testid="mailbox-limits">
          Daily limit {mailbox.dailyLimit}
          {mailbox.warmup ? ` (warming up from ${mailbox.warmup.startLimit} over ${mailbox.warmup.days} days)` : ''} · at least {mailbox.minGapSeconds} s between sends · SMTP{' '}
          {mailbox.smtp.host}:{mailbox.smtp.port}
          {mailbox.imap ? ` · IMAP ${mailbox.imap.host}:${mailbox.imap.port}` : ''} · day in {mailbox.timezone ?? "the workspace's zone"} ·{' '}
          {mailbox.owner ? `belongs to ${mailbox.owner.name ?? mailbox.owner.email}` : "the team's"}
          {mailbox.lastSendAt ? ` · last sent ${relative(mailbox.lastSendAt)}` : ''}
          {mailbox.inbox?.checkedAt ? ` · inbox read ${relative(mailbox.inbox.checkedAt)}` : ''}
        </Text>
        {mailbox.inbox?.lastError && (
          <Text size="xs" c="red.8" data-testid="mailbox-health-error">
            Reading the inbox failed: {mailbox.inbox.lastError}
          </Text>
        )}
        {auth.can('admin') && !editing && !editingServers && (
          <Group gap="xs">
            <Button size="xs" variant="light" onClick={() => (setSaved(false), test.mutate())} loading={test.isPending}>Test</Button>
            <Button size="xs" variant="light" onClick={() => setEditing(true)}>Edit limits</Button>
            <Button size="xs" variant="light" onClick={() => (setSaved(false), test.reset(), setEditingServers(true))}>Edit mailbox</Button>
            <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(true)}>Delete</Button>
          </Group>
        )}
        {editing && <EditLimits mailbox={mailbox} onDone={() => setEditing(false)} />}
        {editingServers && (
          <EditMailbox
            mailbox={mailbox}
            onDone={(done) => {
              setEditingServers(false);
              setSaved(done);
            }}
          />
        )}
        {saved && !test.data && !test.isPending && (
          <Alert color="blue" title="Saved" data-testid="mailbox-saved">
            <Group gap="xs" justify="space-between" wrap="wrap">
              <Text size="sm">The next send and the inbox watch use the new settings. Test the login now?</Text>
              <Button size="xs" onClick={() => (setSaved(false), test.mutate())}>Test now</Button>
            </Group>
          </Alert>
        )}
        {test.data && (
          <Alert color={test.data.ok ? 'green' : 'red'} title={test.data.ok ? 'The login works' : 'The login failed'} data-testid="mailbox-test">
            {test.data.sentence}
          </Alert>
        )}
        <ErrorAlert error={test.error} title="The test could not run" />
      </Stack>
      <ConfirmDialog
        opened={confirming}
        title={`Delete ${mailbox.name}?`}
        confirmLabel="Delete mailbox"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setConfirming(false)}
      >
        Its stored passwords are erased. Enrollments that sent from it take another of their sequence's mailboxes for their next email; a sequence left with none
        fails its email steps.
      </ConfirmDialog>
    </Paper>
  );
}

export function MailboxesPage() {
  const auth = useAuth();
  const mailboxes = useQuery({
    queryKey: ['mailboxes'],
    queryFn: async () => (await get<{ items: Mailbox[] }>('/api/mailboxes')).items,
    // "Sent today" follows the live stream (a counted send is a `mailbox` notice); polling only while it is down.
    refetchInterval: useLiveInterval(30_000),
  });
  return (
    <Stack>
      <Title order={2}>Mailboxes</Title>
      <Text c="dimmed" size="sm">
        The reps' own email accounts that sequences send from, each within its daily limit. Pick them in a sequence's settings.
      </Text>
      <ErrorAlert error={mailboxes.error} title="The mailboxes could not be loaded" />
      {auth.can('admin') && <NewMailbox />}
      {mailboxes.isSuccess && mailboxes.data.length === 0 && (
        <EmptyState title="No mailboxes yet">
          {auth.can('admin') ? 'Add one above: its SMTP login and how many emails a day it may send.' : 'An admin adds them; until then sequences send through the deployment’s email provider.'}
        </EmptyState>
      )}
      {mailboxes.data?.map((m) => <MailboxCard key={m.id} mailbox={m} />)}
    </Stack>
  );
}
