/**
 * Editing a stored mailbox: its sender, SMTP and IMAP servers and day zone (limits have their own
 * small form). Passwords are write-only: the fields start empty, an empty one keeps the stored
 * password (it is left out of the PATCH), a typed one replaces it. Turning IMAP off removes its
 * settings and password; turning it on for a mailbox without IMAP needs a password. The
 * Authentication-Results server (MAILBOXES.md, "Sender authentication") is saved with IMAP; empty
 * means the IMAP host.
 */
import { Button, Group, Select, SimpleGrid, Stack, Switch, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { timeZones } from '../account/zones.ts';
import { OwnerSelect } from '../leads/OwnerSelect.tsx';
import { patch, problemsOf } from '../api/client.ts';
import type { Body, Mailbox } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { asNumber, blankServer, LABELS, ServerFields, type Server } from './NewMailbox.tsx';
import { nestedFieldErrors } from './nestedErrors.ts';

const stored = (server: Mailbox['smtp']): Server => ({ host: server.host, port: server.port, secure: server.secure, user: server.user, password: '' });

/** The server as PATCH takes it: an empty password is left out, so the stored one stays. */
const patchServer = (s: Server) => ({
  host: s.host.trim(),
  port: asNumber(s.port),
  secure: s.secure,
  user: s.user.trim(),
  ...(s.password ? { password: s.password } : {}),
});

export function EditMailbox({ mailbox, onDone }: { mailbox: Mailbox; onDone: (saved: boolean) => void }) {
  const client = useQueryClient();
  const zones = useMemo(timeZones, []);
  const [name, setName] = useState(mailbox.name);
  const [fromEmail, setFromEmail] = useState(mailbox.fromEmail);
  const [fromName, setFromName] = useState(mailbox.fromName ?? '');
  const [smtp, setSmtp] = useState<Server>(stored(mailbox.smtp));
  const [withImap, setWithImap] = useState(mailbox.imap !== null);
  const [imap, setImap] = useState<Server>(mailbox.imap ? stored(mailbox.imap) : blankServer('imap'));
  const [authservId, setAuthservId] = useState(mailbox.imap?.authservId ?? '');
  const [timezone, setTimezone] = useState<string | null>(mailbox.timezone ?? null);
  const [ownerId, setOwnerId] = useState<string | null>(mailbox.owner?.id ?? null);
  const save = useMutation({
    mutationFn: () =>
      patch<Mailbox>(`/api/mailboxes/${mailbox.id}`, {
        name: name.trim(),
        fromEmail: fromEmail.trim(),
        fromName: fromName.trim() || null,
        smtp: patchServer(smtp),
        // Off: the IMAP settings and password go; untouched and off from the start: nothing is sent.
        ...(withImap ? { imap: { ...patchServer(imap), authservId: authservId.trim() || null } } : mailbox.imap ? { imap: null } : {}),
        timezone,
        ownerId,
      } satisfies Body<'/api/mailboxes/{id}', 'patch'>),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['mailboxes'] });
      onDone(true);
    },
  });
  const errors = nestedFieldErrors(save.error, LABELS);
  const e = errors.byField;
  const imapNeedsPassword = withImap && !mailbox.imap?.passwordSet;
  return (
    <Stack
      gap="xs"
      component="form"
      aria-label={`Edit ${mailbox.name}`}
      onSubmit={(event: React.FormEvent) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="xs">
        <TextInput label="Name" value={name} onChange={(ev) => setName(ev.currentTarget.value)} error={e.name} required />
        <TextInput label="From email" value={fromEmail} onChange={(ev) => setFromEmail(ev.currentTarget.value)} error={e.fromEmail} required />
        <TextInput label="From name" value={fromName} onChange={(ev) => setFromName(ev.currentTarget.value)} error={e.fromName} />
      </SimpleGrid>
      <ServerFields kind="smtp" value={smtp} onChange={setSmtp} errors={e} keepsPassword />
      <Switch label="Read replies and bounces over IMAP" checked={withImap} onChange={(ev) => setWithImap(ev.currentTarget.checked)} />
      {withImap && <ServerFields kind="imap" value={imap} onChange={setImap} errors={e} keepsPassword={!imapNeedsPassword} />}
      {withImap && (
        <TextInput
          label="Authentication-Results server"
          description="The server whose SPF/DKIM/DMARC verdicts on a reply's sender are believed (e.g. mx.google.com); empty: the IMAP host"
          value={authservId}
          onChange={(ev) => setAuthservId(ev.currentTarget.value)}
          error={e['imap.authservId']}
        />
      )}
      <Select
        label="Time zone"
        description="Whose midnight starts its day; empty: the workspace's"
        data={zones}
        value={timezone}
        onChange={setTimezone}
        error={e.timezone}
        searchable
        clearable
      />
      <OwnerSelect value={ownerId} onChange={setOwnerId} label="Belongs to (a member; unowned: the team's)" />
      {errors.general.length > 0 && <ErrorAlert error={problemsOf(save.error).length ? new Error(errors.general.join(' ')) : save.error} title="The changes were refused" />}
      <Group gap="xs">
        <Button type="submit" size="xs" loading={save.isPending} disabled={!name.trim() || !fromEmail.trim() || !smtp.host.trim() || !smtp.user.trim() || (imapNeedsPassword && !imap.password)}>
          Save mailbox
        </Button>
        <Button size="xs" variant="default" onClick={() => onDone(false)}>
          Cancel
        </Button>
      </Group>
    </Stack>
  );
}
