/**
 * Outbound webhooks: the workspace's endpoints (a banner for each one the deliverer disabled;
 * the navigation's count and the notice on other pages are webhooks/DisabledEndpoints.tsx),
 * creating one (its secret shown once), rotating a secret, turning one off and on, sending a
 * test event, and each endpoint's delivery log with replay. Admins change things; operators read.
 */
import { Alert, Badge, Button, Code, CopyButton, Group, MultiSelect, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { SUBSCRIBABLE_EVENTS } from '../../../src/core/webhookCatalogue.ts';
import { del, get, patch, post } from '../api/client.ts';
import type { Body, Page, WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, relative } from '../components/format.ts';
import { useLiveInterval } from '../live/LiveUpdates.tsx';
import { fetchWebhookEndpoints, WEBHOOK_ENDPOINTS_KEY } from '../webhooks/DisabledEndpoints.tsx';

const FAMILIES = ['enrollment.*', 'email.*', 'sms.*', 'call.*', 'task.*', 'lead.*', 'meeting.*', 'custom.*'];
const EVENT_CHOICES = ['*', ...FAMILIES, ...SUBSCRIBABLE_EVENTS];

const WHY_DISABLED: Record<string, string> = {
  gone: 'the receiver answered 410 Gone',
  failing: 'every delivery failed for a day',
  operator: 'someone turned it off',
};

/** A secret, shown once with a copy button. */
function SecretOnce({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <Alert color="yellow" title="The signing secret — shown this once" data-testid="webhook-secret">
      <Stack gap="xs">
        <Code block>{secret}</Code>
        <Group gap="xs">
          <CopyButton value={secret}>{({ copied, copy }) => <Button size="xs" onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>}</CopyButton>
          <Button size="xs" variant="subtle" onClick={onDone}>I have stored it</Button>
        </Group>
        <Text size="xs">Verify each post with it (Standard Webhooks; see docs/INTEGRATIONS.md). It cannot be shown again.</Text>
      </Stack>
    </Alert>
  );
}

function NewEndpoint({ onSecret }: { onSecret: (secret: string) => void }) {
  const client = useQueryClient();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['*']);
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => post<WebhookEndpointWithSecret>('/api/webhook-endpoints', { url, events, description } satisfies Body<'/api/webhook-endpoints', 'post'>),
    onSuccess: (created) => {
      onSecret(created.secret);
      setUrl('');
      setDescription('');
      void client.invalidateQueries({ queryKey: ['webhook-endpoints'] });
    },
  });
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="xs">
        <Text fw={600}>New endpoint</Text>
        <TextInput label="URL" placeholder="https://hooks.example.com/touchpoint" value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
        <MultiSelect label="Events" data={EVENT_CHOICES} value={events} onChange={setEvents} searchable />
        <TextInput label="Description" placeholder="CRM sync" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
        <Group>
          <Button onClick={() => create.mutate()} loading={create.isPending} disabled={!url || events.length === 0}>
            Create endpoint
          </Button>
        </Group>
        <ErrorAlert error={create.error} title="The endpoint was refused" />
      </Stack>
    </Paper>
  );
}

function DeliveryLog({ endpoint }: { endpoint: WebhookEndpoint }) {
  const auth = useAuth();
  const client = useQueryClient();
  const log = useQuery({
    queryKey: ['webhook-deliveries', endpoint.id],
    queryFn: async () => (await get<Page<WebhookDelivery>>(`/api/webhook-endpoints/${endpoint.id}/deliveries`, { limit: 50 })).items,
    // Each attempt is a `webhook` notice on the live stream; polling only while it is down.
    refetchInterval: useLiveInterval(3_000),
  });
  const replay = useMutation({
    mutationFn: (id: string) => post(`/api/webhook-endpoints/${endpoint.id}/deliveries/${id}/replay`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['webhook-deliveries', endpoint.id] }),
  });
  if (log.error) return <ErrorAlert error={log.error} title="The delivery log could not be loaded" />;
  if (log.isSuccess && log.data.length === 0) return <Text size="sm" c="dimmed">No deliveries yet.</Text>;
  return (
    <Stack gap="xs">
      <Table striped withTableBorder fz="sm" data-testid="delivery-log">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Event</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Attempts</Table.Th>
            <Table.Th>Last answer</Table.Th>
            <Table.Th>Latency</Table.Th>
            <Table.Th>Next attempt</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {log.data?.map((d) => (
            <Table.Tr key={d.id}>
              <Table.Td>
                {d.eventType}
                <Text size="xs" c="dimmed">{formatAt(d.createdAt)}{d.replayOf ? ' · replay' : ''}</Text>
              </Table.Td>
              <Table.Td>
                <Badge color={d.status === 'delivered' ? 'green' : d.status === 'failed' ? 'red' : 'yellow'} variant="light">{d.status}</Badge>
              </Table.Td>
              <Table.Td>{d.attempts}</Table.Td>
              <Table.Td>
                {d.lastStatusCode ?? '—'}
                <Text size="xs" c="dimmed" lineClamp={2} maw={320}>{d.lastError ?? d.lastResponse ?? ''}</Text>
              </Table.Td>
              <Table.Td>{d.lastLatencyMs === null ? '—' : `${d.lastLatencyMs} ms`}</Table.Td>
              <Table.Td>{d.nextAttemptAt ? relative(d.nextAttemptAt) : '—'}</Table.Td>
              <Table.Td>
                {auth.can('admin') && (
                  <Button size="compact-xs" variant="light" onClick={() => replay.mutate(d.id)} loading={replay.isPending && replay.variables === d.id}>
                    Replay
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <ErrorAlert error={replay.error} title="The replay was refused" />
    </Stack>
  );
}

function EndpointCard({ endpoint, onSecret }: { endpoint: WebhookEndpoint; onSecret: (secret: string) => void }) {
  const auth = useAuth();
  const client = useQueryClient();
  const [showLog, setShowLog] = useState(false);
  const refresh = () => client.invalidateQueries({ queryKey: ['webhook-endpoints'] });
  const toggle = useMutation({ mutationFn: () => patch(`/api/webhook-endpoints/${endpoint.id}`, { enabled: !endpoint.enabled }), onSuccess: refresh });
  const rotate = useMutation({
    mutationFn: () => post<WebhookEndpointWithSecret>(`/api/webhook-endpoints/${endpoint.id}/rotate-secret`),
    onSuccess: (rotated) => {
      onSecret(rotated.secret);
      void refresh();
    },
  });
  const test = useMutation({
    mutationFn: () => post(`/api/webhook-endpoints/${endpoint.id}/test`),
    onSuccess: () => {
      setShowLog(true);
      void client.invalidateQueries({ queryKey: ['webhook-deliveries', endpoint.id] });
    },
  });
  const remove = useMutation({ mutationFn: () => del(`/api/webhook-endpoints/${endpoint.id}`), onSuccess: refresh });
  const error = toggle.error ?? rotate.error ?? test.error ?? remove.error;
  return (
    <Paper withBorder p="md" radius="md" data-testid="webhook-endpoint">
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap">
          <Text fw={600} style={{ wordBreak: 'break-all' }}>{endpoint.url}</Text>
          <Badge color={endpoint.enabled ? 'green' : 'red'} variant="light">{endpoint.enabled ? 'enabled' : 'disabled'}</Badge>
        </Group>
        {endpoint.description && <Text size="sm">{endpoint.description}</Text>}
        <Text size="xs" c="dimmed">
          {endpoint.events.join(', ')} · delivered {endpoint.deliveries.delivered}, pending {endpoint.deliveries.pending}, failed {endpoint.deliveries.failed}
          {endpoint.failingSince ? ` · failing since ${formatAt(endpoint.failingSince)}` : ''}
          {endpoint.previousSecretExpiresAt ? ` · the previous secret signs until ${formatAt(endpoint.previousSecretExpiresAt)}` : ''}
        </Text>
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => setShowLog((v) => !v)}>{showLog ? 'Hide deliveries' : 'Deliveries'}</Button>
          {auth.can('admin') && (
            <>
              <Button size="xs" variant="light" onClick={() => test.mutate()} loading={test.isPending} disabled={!endpoint.enabled}>Send test event</Button>
              <Button size="xs" variant="light" onClick={() => rotate.mutate()} loading={rotate.isPending}>Rotate secret</Button>
              <Button size="xs" variant="light" color={endpoint.enabled ? 'orange' : 'green'} onClick={() => toggle.mutate()} loading={toggle.isPending}>
                {endpoint.enabled ? 'Disable' : 'Enable'}
              </Button>
              <Button size="xs" variant="subtle" color="red" onClick={() => window.confirm(`Delete ${endpoint.url} and its log?`) && remove.mutate()}>Delete</Button>
            </>
          )}
        </Group>
        <ErrorAlert error={error} title="That did not work" />
        {showLog && <DeliveryLog endpoint={endpoint} />}
      </Stack>
    </Paper>
  );
}

export function WebhooksPage() {
  const auth = useAuth();
  const [secret, setSecret] = useState<string | null>(null);
  // The same query as the notice on every page (webhooks/DisabledEndpoints.tsx): one key, one fetch.
  const endpoints = useQuery({
    queryKey: WEBHOOK_ENDPOINTS_KEY,
    queryFn: fetchWebhookEndpoints,
    refetchInterval: useLiveInterval(5_000),
  });
  const disabled = endpoints.data?.filter((e) => !e.enabled && e.disabledReason !== 'operator') ?? [];
  return (
    <Stack>
      <Title order={2}>Webhooks</Title>
      <Text c="dimmed" size="sm">
        Touchpoint posts signed events (Standard Webhooks) to these URLs: replies, bounces, opt-outs, conversions, custom events and more.
      </Text>
      {disabled.map((e) => (
        <Alert key={e.id} color="red" title="An endpoint was disabled" data-testid="webhook-disabled-banner">
          {e.url} was turned off {e.disabledAt ? relative(e.disabledAt) : ''}: {WHY_DISABLED[e.disabledReason ?? 'operator']}. Its pending deliveries wait;
          fix the receiver and enable it to resume them.
        </Alert>
      ))}
      {secret && <SecretOnce secret={secret} onDone={() => setSecret(null)} />}
      <ErrorAlert error={endpoints.error} title="The endpoints could not be loaded" />
      {auth.can('admin') && <NewEndpoint onSecret={setSecret} />}
      {endpoints.isSuccess && endpoints.data.length === 0 && (
        <EmptyState title="No endpoints yet">An admin adds the URL of your CRM or automation tool above.</EmptyState>
      )}
      {endpoints.data?.map((e) => <EndpointCard key={e.id} endpoint={e} onSecret={setSecret} />)}
    </Stack>
  );
}
