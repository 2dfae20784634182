/**
 * The suppression list: the addresses this workspace never contacts on a channel — opt-outs and
 * bounces the providers reported, and the emails, phone numbers and whole email domains people
 * added. Everyone reads it and downloads it as CSV; operators add, import (CSV) and delete, a
 * delete asking first: the address can be contacted again at once.
 */
import { Badge, Button, FileInput, Group, Modal, Paper, SegmentedControl, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, del, get, post, withQuery } from '../api/client.ts';
import type { Body, Page, Suppression, SuppressionImportResult } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt } from '../components/format.ts';

type Kind = 'email' | 'phone' | 'domain';
const KIND_LABELS: Record<Kind, string> = { email: 'Email', phone: 'Phone', domain: 'Email domain' };
const PLACEHOLDERS: Record<Kind, string> = { email: 'someone@example.com', phone: '+14155550123', domain: 'example.com' };

function AddForm() {
  const client = useQueryClient();
  const [kind, setKind] = useState<Kind>('email');
  const [address, setAddress] = useState('');
  const [channel, setChannel] = useState<string>('both');
  const [reason, setReason] = useState('');
  const [answer, setAnswer] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: () =>
      post<{ items: Suppression[] }>('/api/suppressions', {
        [kind]: address.trim(),
        ...(kind === 'phone' && channel !== 'both' ? { channels: [channel as 'sms' | 'voice'] } : {}),
        reason: reason.trim(),
      } satisfies Body<'/api/suppressions', 'post'>),
    onSuccess: (result) => {
      setAnswer(`Suppressed ${result.items.map((s) => `${s.address} (${s.channel})`).join(', ')}.`);
      setAddress('');
      setReason('');
      void client.invalidateQueries({ queryKey: ['suppressions'] });
    },
  });
  return (
    <Paper withBorder p="md" radius="md">
      <form
        aria-label="Suppress an address"
        onSubmit={(event) => {
          event.preventDefault();
          setAnswer(null);
          add.mutate();
        }}
      >
        <Stack gap="xs">
          <Text fw={600}>Suppress an address</Text>
          <Group align="flex-end" wrap="wrap">
            <Select
              label="What"
              data={(Object.keys(KIND_LABELS) as Kind[]).map((k) => ({ value: k, label: KIND_LABELS[k] }))}
              value={kind}
              onChange={(v) => v && setKind(v as Kind)}
              allowDeselect={false}
              w={160}
            />
            <TextInput label={KIND_LABELS[kind]} placeholder={PLACEHOLDERS[kind]} value={address} onChange={(e) => setAddress(e.currentTarget.value)} required w={260} />
            {kind === 'phone' && (
              <Select
                label="Channels"
                data={[
                  { value: 'both', label: 'SMS and calls' },
                  { value: 'sms', label: 'SMS only' },
                  { value: 'voice', label: 'Calls only' },
                ]}
                value={channel}
                onChange={(v) => v && setChannel(v)}
                allowDeselect={false}
                w={160}
              />
            )}
            <TextInput label="Reason" placeholder="Asked not to be contacted" value={reason} onChange={(e) => setReason(e.currentTarget.value)} required w={280} />
            <Button type="submit" loading={add.isPending} disabled={!address.trim() || !reason.trim()}>
              Suppress
            </Button>
          </Group>
          {kind === 'domain' && (
            <Text size="xs" c="dimmed">
              Every lead whose email is at this domain is refused enrollment and skipped on email steps.
            </Text>
          )}
          {answer && (
            <Text size="sm" role="status">
              {answer}
            </Text>
          )}
          <ErrorAlert error={add.error} title="Not suppressed" />
        </Stack>
      </form>
    </Paper>
  );
}

function ImportForm() {
  const client = useQueryClient();
  const run = useMutation({
    mutationFn: (csv: string) => api<SuppressionImportResult>('POST', '/api/suppressions/import', undefined, { raw: csv, contentType: 'text/csv' }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['suppressions'] }),
  });
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="xs">
        <Text fw={600}>Import a CSV</Text>
        <Text size="xs" c="dimmed">
          Columns: address (an email, a phone number, or @domain), channel (email, sms or voice; empty for every channel the address has), reason. Up to 5,000 rows.
        </Text>
        <FileInput
          label="CSV file"
          accept=".csv,text/csv"
          w={320}
          onChange={async (file) => {
            run.reset();
            if (file) run.mutate(await file.text());
          }}
        />
        {run.data && (
          <Stack gap={4} role="status" data-testid="import-result">
            <Text size="sm">
              {run.data.rows} rows: {run.data.added} suppressed, {run.data.existing} already on the list, {run.data.failed} refused.
            </Text>
            {run.data.errors.map((e, i) => (
              <Text key={i} size="xs" c="red.8">
                Line {e.line}: {e.message}
              </Text>
            ))}
          </Stack>
        )}
        <ErrorAlert error={run.error} title="The file was not imported" />
      </Stack>
    </Paper>
  );
}

async function downloadCsv(query: Record<string, string | undefined>): Promise<void> {
  const text = await api<string>('GET', withQuery('/api/suppressions/export', query));
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `suppressions-${new Date().toISOString().slice(0, 10)}.csv`;
  link.click();
  URL.revokeObjectURL(url);
}

export function SuppressionsPage() {
  const auth = useAuth();
  const client = useQueryClient();
  const operator = auth.can('operator');
  const [kind, setKind] = useState<string>('all');
  const [q, setQ] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const [deleting, setDeleting] = useState<Suppression | null>(null);
  const [csvError, setCsvError] = useState<unknown>(null);
  const filter = { kind: kind === 'all' ? undefined : kind, q: q.trim() || undefined };
  const cursor = pages[pages.length - 1];
  const list = useQuery({
    queryKey: ['suppressions', filter, cursor],
    queryFn: () => get<Page<Suppression>>('/api/suppressions', { ...filter, cursor, limit: 50 }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/suppressions/${id}`),
    onSuccess: () => {
      setDeleting(null);
      void client.invalidateQueries({ queryKey: ['suppressions'] });
    },
  });
  return (
    <Stack>
      <Title order={2}>Suppressions</Title>
      <Text size="sm" c="dimmed">
        Addresses {auth.workspace?.name} never contacts on a channel: opt-outs and bounces the providers reported, and the ones people added. Enrollment refuses
        them and every send skips them.
      </Text>
      {operator && <AddForm />}
      {operator && <ImportForm />}
      <Group align="flex-end" wrap="wrap">
        <SegmentedControl
          aria-label="Kind"
          data={[
            { value: 'all', label: 'All' },
            { value: 'email', label: 'Emails' },
            { value: 'domain', label: 'Domains' },
            { value: 'phone', label: 'Phones' },
          ]}
          value={kind}
          onChange={(v) => (setKind(v), setPages([]))}
        />
        <TextInput label="Search" placeholder="part of the address" value={q} onChange={(e) => (setQ(e.currentTarget.value), setPages([]))} w={240} />
        <Button variant="light" onClick={() => downloadCsv(filter).then(() => setCsvError(null), setCsvError)}>
          Download CSV
        </Button>
      </Group>
      <ErrorAlert error={csvError} title="The CSV could not be made" />
      <ErrorAlert error={list.error} title="The suppressions could not be loaded" />
      {list.data && list.data.items.length === 0 && <Text c="dimmed">No suppressions{filter.q || filter.kind ? ' match' : ' yet'}.</Text>}
      {list.data && list.data.items.length > 0 && (
        <Table striped withTableBorder aria-label="Suppressions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Address</Table.Th>
              <Table.Th>Channel</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>Added by</Table.Th>
              <Table.Th>Since</Table.Th>
              {operator && <Table.Th />}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data.items.map((s) => (
              <Table.Tr key={s.id} data-testid="suppression">
                <Table.Td>
                  {s.address} {s.kind === 'domain' && <Badge size="xs" variant="light">domain</Badge>}
                </Table.Td>
                <Table.Td>{s.channel}</Table.Td>
                <Table.Td>{s.reason}</Table.Td>
                <Table.Td>{s.addedBy ?? <Text span size="sm" c="dimmed">{s.source}</Text>}</Table.Td>
                <Table.Td>{formatAt(s.createdAt)}</Table.Td>
                {operator && (
                  <Table.Td>
                    <Button size="compact-xs" variant="light" color="red" onClick={() => setDeleting(s)} aria-label={`Delete ${s.address} (${s.channel})`}>
                      Delete
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Group>
        {pages.length > 0 && (
          <Button variant="default" size="xs" onClick={() => setPages(pages.slice(0, -1))}>
            Previous page
          </Button>
        )}
        {list.data?.nextCursor && (
          <Button variant="default" size="xs" onClick={() => setPages([...pages, list.data!.nextCursor!])}>
            Next page
          </Button>
        )}
      </Group>
      <Modal opened={deleting !== null} onClose={() => (setDeleting(null), remove.reset())} title="Delete the suppression?">
        <Stack>
          <Text size="sm">
            {deleting?.address} can be contacted by {deleting?.channel} again at once{deleting?.addedBy ? '' : `: ${deleting?.source} reported it (${deleting?.reason})`}.
          </Text>
          <ErrorAlert error={remove.error} title="Not deleted" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => (setDeleting(null), remove.reset())}>
              Keep
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => deleting && remove.mutate(deleting.id)}>
              Delete
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
