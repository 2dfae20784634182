/**
 * API tokens, for scripts and integrations (admins only): create one with a name and a role —
 * the token is shown this once, to copy — list them with when each was last used, and revoke one
 * (requests with it answer 401 from then on).
 */
import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, post } from '../api/client.ts';
import type { ApiToken, ApiTokenCreated, Body, Role } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, relative } from '../components/format.ts';

function TokenOnce({ created, onDone }: { created: ApiTokenCreated; onDone: () => void }) {
  return (
    <Alert color="yellow" title={`The token "${created.name}" — shown this once`} data-testid="new-token">
      <Stack gap="xs">
        <Code block>{created.token}</Code>
        <Group gap="xs">
          <CopyButton value={created.token}>{({ copied, copy }) => <Button size="xs" onClick={copy}>{copied ? 'Copied' : 'Copy token'}</Button>}</CopyButton>
          <Button size="xs" variant="subtle" onClick={onDone}>
            I have stored it
          </Button>
        </Group>
        <Text size="xs">
          Send it as <Code>Authorization: Bearer …</Code>. It acts in this workspace as a {created.role}; it cannot be shown again.
        </Text>
      </Stack>
    </Alert>
  );
}

function NewToken() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const create = useMutation({
    mutationFn: () => post<ApiTokenCreated>('/api/tokens', { name: name.trim(), role } satisfies Body<'/api/tokens', 'post'>),
    onSuccess: (answer) => {
      setCreated(answer);
      setName('');
      void client.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="xs">
        <Text fw={600}>New token</Text>
        {created ? (
          <TokenOnce created={created} onDone={() => setCreated(null)} />
        ) : (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              create.mutate();
            }}
          >
            <Group align="flex-end" wrap="wrap">
              <TextInput label="Name" placeholder="CRM sync" value={name} onChange={(e) => setName(e.currentTarget.value)} required w={260} />
              <Select label="Role" data={['viewer', 'operator', 'admin']} value={role} onChange={(v) => v && setRole(v as Role)} allowDeselect={false} w={140} />
              <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
                Create token
              </Button>
            </Group>
          </form>
        )}
        <ErrorAlert error={create.error} title="The token was not created" />
      </Stack>
    </Paper>
  );
}

export function TokensPage() {
  const auth = useAuth();
  const client = useQueryClient();
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: async () => (await get<{ items: ApiToken[] }>('/api/tokens')).items, enabled: auth.can('admin') });
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/api/tokens/${id}`),
    onSuccess: () => {
      setRevoking(null);
      void client.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  if (!auth.can('admin')) {
    return (
      <Stack>
        <Title order={2}>API tokens</Title>
        <Text>Only admins see and create API tokens.</Text>
      </Stack>
    );
  }
  return (
    <Stack>
      <Title order={2}>API tokens</Title>
      <Text size="sm" c="dimmed">
        For scripts, integrations and Prometheus: each token acts in {auth.workspace?.name} with one role. People sign in with their own account instead.
      </Text>
      <NewToken />
      <ErrorAlert error={tokens.error} title="The tokens could not be loaded" />
      {tokens.data && tokens.data.length > 0 && (
        <Table striped withTableBorder aria-label="API tokens">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Starts with</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.data.map((t) => (
              <Table.Tr key={t.id} data-testid="token">
                <Table.Td>{t.name}</Table.Td>
                <Table.Td>{t.role}</Table.Td>
                <Table.Td>
                  <Code>{t.prefix}…</Code>
                </Table.Td>
                <Table.Td>{formatAt(t.createdAt)}</Table.Td>
                <Table.Td>{t.lastUsedAt ? relative(t.lastUsedAt) : 'never'}</Table.Td>
                <Table.Td>
                  {t.revokedAt ? (
                    <Badge color="gray" variant="light" title={formatAt(t.revokedAt)}>
                      revoked
                    </Badge>
                  ) : (
                    <Button size="compact-xs" variant="light" color="red" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Modal opened={revoking !== null} onClose={() => (setRevoking(null), revoke.reset())} title="Revoke the token?">
        <Stack>
          <Text size="sm">Every request with "{revoking?.name}" ({revoking?.prefix}…) is refused from now on. This cannot be undone.</Text>
          <ErrorAlert error={revoke.error} title="Not revoked" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => (setRevoking(null), revoke.reset())}>
              Keep
            </Button>
            <Button color="red" loading={revoke.isPending} onClick={() => revoking && revoke.mutate(revoking.id)}>
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
