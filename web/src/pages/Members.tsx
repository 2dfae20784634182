/**
 * The workspace's people: everyone sees who is in it and with which role; admins change roles,
 * remove people (the server keeps one admin and says so), and invite by a one-time link that is
 * shown once to copy and send, with the open invites listed until accepted, revoked or expired.
 */
import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, patch, post } from '../api/client.ts';
import type { Body, Invite, InviteCreated, Member, Role } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, relative } from '../components/format.ts';
import { hoursText, WorkingHoursButton } from '../account/WorkingHours.tsx';

const ROLES: { value: Role; label: string }[] = [
  { value: 'viewer', label: 'viewer — reads everything' },
  { value: 'operator', label: 'operator — works leads' },
  { value: 'admin', label: 'admin — sequences, settings, people' },
];

/** The invite link, shown this once. */
function LinkOnce({ invite, onDone }: { invite: InviteCreated; onDone: () => void }) {
  return (
    <Alert color="yellow" title="The invite link — shown this once" data-testid="invite-link">
      <Stack gap="xs">
        <Code block>{invite.url}</Code>
        <Group gap="xs">
          <CopyButton value={invite.url}>{({ copied, copy }) => <Button size="xs" onClick={copy}>{copied ? 'Copied' : 'Copy link'}</Button>}</CopyButton>
          <Button size="xs" variant="subtle" onClick={onDone}>
            Done
          </Button>
        </Group>
        {invite.emailed ? (
          <Text size="xs" data-testid="invite-emailed">
            E-mailed to {invite.email}. It works once, as a {invite.role}, until {formatAt(invite.expiresAt)}; only that address can accept it.
          </Text>
        ) : (
          <Text size="xs">
            {invite.emailProblem ? `Not e-mailed: ${invite.emailProblem} It works once` : `Send it to ${invite.email ?? 'the person'} yourself: it works once`}, as a{' '}
            {invite.role}, until {formatAt(invite.expiresAt)}.
            {invite.email ? ' Only that address can accept it.' : ' Whoever opens it chooses their email.'}
          </Text>
        )}
      </Stack>
    </Alert>
  );
}

function InviteForm() {
  const client = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [created, setCreated] = useState<InviteCreated | null>(null);
  const invite = useMutation({
    mutationFn: () => post<InviteCreated>('/api/invites', { email: email.trim() || null, role } satisfies Body<'/api/invites', 'post'>),
    onSuccess: (answer) => {
      setCreated(answer);
      setEmail('');
      void client.invalidateQueries({ queryKey: ['invites'] });
    },
  });
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="xs">
        <Text fw={600}>Invite someone</Text>
        {created ? (
          <LinkOnce invite={created} onDone={() => setCreated(null)} />
        ) : (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              invite.mutate();
            }}
          >
            <Group align="flex-end" wrap="wrap">
              <TextInput label="Email (optional)" type="email" placeholder="only this address may accept" value={email} onChange={(e) => setEmail(e.currentTarget.value)} w={280} />
              <Select label="Role" data={ROLES} value={role} onChange={(v) => v && setRole(v as Role)} allowDeselect={false} w={300} />
              <Button type="submit" loading={invite.isPending}>
                Create invite link
              </Button>
            </Group>
          </form>
        )}
        <ErrorAlert error={invite.error} title="The invite was refused" />
      </Stack>
    </Paper>
  );
}

function OpenInvites() {
  const client = useQueryClient();
  const invites = useQuery({ queryKey: ['invites'], queryFn: async () => (await get<{ items: Invite[] }>('/api/invites')).items });
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/api/invites/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['invites'] }),
  });
  if (invites.error) return <ErrorAlert error={invites.error} title="The invites could not be loaded" />;
  if (!invites.data?.length) return null;
  return (
    <Stack gap="xs">
      <Title order={4}>Open invites</Title>
      <Table withTableBorder fz="sm" aria-label="Open invites">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>For</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {invites.data.map((i) => (
            <Table.Tr key={i.id} data-testid="open-invite">
              <Table.Td>{i.email ?? <Text span c="dimmed" size="sm">anyone with the link</Text>}</Table.Td>
              <Table.Td>{i.role}</Table.Td>
              <Table.Td>
                {relative(i.createdAt)} <Text span c="dimmed" size="xs">by {i.createdBy}</Text>
              </Table.Td>
              <Table.Td>{formatAt(i.expiresAt)}</Table.Td>
              <Table.Td>
                <Button size="compact-xs" variant="light" color="red" onClick={() => revoke.mutate(i.id)} loading={revoke.isPending && revoke.variables === i.id}>
                  Revoke
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <ErrorAlert error={revoke.error} title="The invite was not revoked" />
    </Stack>
  );
}

export function MembersPage() {
  const auth = useAuth();
  const client = useQueryClient();
  const admin = auth.can('admin');
  const me = auth.me?.user?.id;
  const [removing, setRemoving] = useState<Member | null>(null);
  const members = useQuery({ queryKey: ['members'], queryFn: async () => (await get<{ items: Member[] }>('/api/members')).items });
  const refresh = async (userId: string) => {
    await client.invalidateQueries({ queryKey: ['members'] });
    if (userId === me) await auth.signedIn(auth.workspace?.id); // my own role changed: the controls follow
  };
  const changeRole = useMutation({
    mutationFn: (args: { userId: string; role: Role }) => patch<Member>(`/api/members/${args.userId}`, { role: args.role } satisfies Body<'/api/members/{id}', 'patch'>),
    onSettled: (_answer, _error, args) => refresh(args.userId),
  });
  const remove = useMutation({
    mutationFn: (userId: string) => del(`/api/members/${userId}`),
    onSuccess: async (_answer, userId) => {
      setRemoving(null);
      await refresh(userId);
    },
  });
  return (
    <Stack>
      <Title order={2}>Members of {auth.workspace?.name}</Title>
      <ErrorAlert error={members.error} title="The members could not be loaded" />
      <ErrorAlert error={changeRole.error} title="The role was not changed" />
      {members.data && (
        <Table striped withTableBorder aria-label="Members">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Person</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Working hours</Table.Th>
              <Table.Th>Joined</Table.Th>
              {admin && <Table.Th />}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {members.data.map((m) => (
              <Table.Tr key={m.userId} data-testid="member">
                <Table.Td>
                  <Text size="sm">{m.name ?? m.email}</Text>
                  {m.name && <Text size="xs" c="dimmed">{m.email}</Text>}
                  {m.userId === me && <Badge size="xs" variant="outline" ml={4}>you</Badge>}
                </Table.Td>
                <Table.Td>
                  {admin ? (
                    <Select
                      aria-label={`Role of ${m.email}`}
                      data={ROLES.map((r) => ({ value: r.value, label: r.value }))}
                      value={m.role}
                      onChange={(role) => role && role !== m.role && changeRole.mutate({ userId: m.userId, role: role as Role })}
                      allowDeselect={false}
                      size="xs"
                      w={120}
                    />
                  ) : (
                    m.role
                  )}
                </Table.Td>
                <Table.Td data-testid="member-hours">
                  <Group gap="xs" wrap="nowrap">
                    <Text size="xs">{hoursText(m)}</Text>
                    {(admin || m.userId === me) && <WorkingHoursButton member={m} />}
                  </Group>
                </Table.Td>
                <Table.Td>{formatAt(m.joinedAt)}</Table.Td>
                {admin && (
                  <Table.Td>
                    <Button size="compact-xs" variant="light" color="red" onClick={() => setRemoving(m)} aria-label={`Remove ${m.email}`}>
                      Remove
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {admin && <InviteForm />}
      {admin && <OpenInvites />}
      <Modal opened={removing !== null} onClose={() => (setRemoving(null), remove.reset())} title="Remove from the workspace?">
        <Stack>
          <Text size="sm">
            {removing?.email} loses access to {auth.workspace?.name} at once. Their account, and their other workspaces, stay.
          </Text>
          <ErrorAlert error={remove.error} title="Not removed" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => (setRemoving(null), remove.reset())}>
              Keep
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => removing && remove.mutate(removing.userId)}>
              Remove {removing?.email}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
