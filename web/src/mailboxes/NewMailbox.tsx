/**
 * Adding a mailbox: sender, SMTP login, optional IMAP login (for replies and bounces), daily
 * limit, gap between sends and the zone whose midnight starts a new day. Passwords are
 * write-only: they go to the server sealed and are never shown again. Each refusal is shown
 * under its field.
 */
import { Button, Group, NumberInput, Paper, PasswordInput, Select, SimpleGrid, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { timeZones } from '../account/zones.ts';
import { post, problemsOf } from '../api/client.ts';
import type { Body, Mailbox } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { nestedFieldErrors } from './nestedErrors.ts';

export interface Server {
  host: string;
  port: number | string;
  secure: boolean;
  user: string;
  password: string;
}

export const LABELS: Record<string, string> = {
  name: 'Name',
  fromEmail: 'From email',
  fromName: 'From name',
  dailyLimit: 'Daily limit',
  minGapSeconds: 'Seconds between sends',
  timezone: 'Time zone',
  smtp: 'SMTP',
  imap: 'IMAP',
  'imap.authservId': 'Authentication-Results server',
  ...Object.fromEntries(['smtp', 'imap'].flatMap((s) => ['host', 'port', 'secure', 'user', 'password'].map((f) => [`${s}.${f}`, `${s.toUpperCase()} ${f}`]))),
};

// The usual ports: implicit TLS or STARTTLS. Flipping "TLS from the start" moves a default port along.
export const PORTS = { smtp: { tls: 465, starttls: 587 }, imap: { tls: 993, starttls: 143 } };

/**
 * One server's fields. `keepsPassword`: editing a stored mailbox, where an empty password keeps
 * the stored one (it is never shown, never sent back).
 */
export function ServerFields({
  kind,
  value,
  onChange,
  errors,
  keepsPassword = false,
}: {
  kind: 'smtp' | 'imap';
  value: Server;
  onChange: (v: Server) => void;
  errors: Record<string, string>;
  keepsPassword?: boolean;
}) {
  const name = kind.toUpperCase();
  const ports = PORTS[kind];
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
      <TextInput label={`${name} host`} placeholder={kind === 'smtp' ? 'smtp.gmail.com' : 'imap.gmail.com'} value={value.host} onChange={(e) => onChange({ ...value, host: e.currentTarget.value })} error={errors[`${kind}.host`]} required />
      <NumberInput label={`${name} port`} min={1} max={65535} value={value.port} onChange={(port) => onChange({ ...value, port })} error={errors[`${kind}.port`]} required />
      <TextInput label={`${name} user`} autoComplete="off" value={value.user} onChange={(e) => onChange({ ...value, user: e.currentTarget.value })} error={errors[`${kind}.user`]} required />
      <PasswordInput
        label={`${name} password`}
        description={keepsPassword ? 'Leave empty to keep the stored password' : 'Stored sealed; never shown again'}
        placeholder={keepsPassword ? 'unchanged' : undefined}
        autoComplete="new-password"
        value={value.password}
        onChange={(e) => onChange({ ...value, password: e.currentTarget.value })}
        error={errors[`${kind}.password`]}
        required={!keepsPassword}
      />
      <Switch
        label="TLS from the start (off: STARTTLS, then required)"
        checked={value.secure}
        onChange={(e) => {
          const secure = e.currentTarget.checked;
          const port = value.port === (secure ? ports.starttls : ports.tls) ? (secure ? ports.tls : ports.starttls) : value.port;
          onChange({ ...value, secure, port });
        }}
      />
    </SimpleGrid>
  );
}

export const blankServer = (kind: 'smtp' | 'imap'): Server => ({ host: '', port: PORTS[kind].starttls, secure: false, user: '', password: '' });
export const asNumber = (v: number | string) => (typeof v === 'number' ? v : Number.NaN);
const wireServer = (s: Server) => ({ host: s.host.trim(), port: asNumber(s.port), secure: s.secure, user: s.user.trim(), password: s.password });

export function NewMailbox() {
  const client = useQueryClient();
  const zones = useMemo(timeZones, []);
  const [name, setName] = useState('');
  const [fromEmail, setFromEmail] = useState('');
  const [fromName, setFromName] = useState('');
  const [smtp, setSmtp] = useState<Server>(blankServer('smtp'));
  const [withImap, setWithImap] = useState(false);
  const [imap, setImap] = useState<Server>(blankServer('imap'));
  const [dailyLimit, setDailyLimit] = useState<number | string>(50);
  const [minGapSeconds, setMinGapSeconds] = useState<number | string>(60);
  const [timezone, setTimezone] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () =>
      post<Mailbox>('/api/mailboxes', {
        name: name.trim(),
        fromEmail: fromEmail.trim(),
        ...(fromName.trim() ? { fromName: fromName.trim() } : {}),
        smtp: wireServer(smtp),
        imap: withImap ? wireServer(imap) : null,
        dailyLimit: asNumber(dailyLimit),
        minGapSeconds: asNumber(minGapSeconds),
        timezone,
      } satisfies Body<'/api/mailboxes', 'post'>),
    onSuccess: () => {
      // The passwords leave the page with the form: nothing secret lingers in the browser's state.
      setName('');
      setFromEmail('');
      setFromName('');
      setSmtp(blankServer('smtp'));
      setImap(blankServer('imap'));
      setWithImap(false);
      void client.invalidateQueries({ queryKey: ['mailboxes'] });
    },
  });
  const errors = nestedFieldErrors(create.error, LABELS);
  const e = errors.byField;
  return (
    <Paper withBorder p="md" radius="md" component="form" onSubmit={(event) => (event.preventDefault(), create.mutate())} aria-label="Add mailbox">
      <Stack gap="xs">
        <Text fw={600}>Add mailbox</Text>
        <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="xs">
          <TextInput label="Name" placeholder="Ada's Gmail" value={name} onChange={(ev) => setName(ev.currentTarget.value)} error={e.name} required />
          <TextInput label="From email" placeholder="ada@example.com" value={fromEmail} onChange={(ev) => setFromEmail(ev.currentTarget.value)} error={e.fromEmail} required />
          <TextInput label="From name" placeholder="Ada Lovelace" value={fromName} onChange={(ev) => setFromName(ev.currentTarget.value)} error={e.fromName} />
        </SimpleGrid>
        <ServerFields kind="smtp" value={smtp} onChange={setSmtp} errors={e} />
        <Switch label="Read replies and bounces over IMAP" checked={withImap} onChange={(ev) => setWithImap(ev.currentTarget.checked)} />
        {withImap && <ServerFields kind="imap" value={imap} onChange={setImap} errors={e} />}
        <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="xs">
          <NumberInput label="Daily limit" description="Emails a day at most; 0 pauses it" min={0} max={10_000} value={dailyLimit} onChange={setDailyLimit} error={e.dailyLimit} required />
          <NumberInput label="Seconds between sends" description="At least this long between two of its emails" min={0} max={86_400} value={minGapSeconds} onChange={setMinGapSeconds} error={e.minGapSeconds} required />
          <Select label="Time zone" description="Whose midnight starts its day; empty: the workspace's" data={zones} value={timezone} onChange={setTimezone} error={e.timezone} searchable clearable />
        </SimpleGrid>
        {errors.general.length > 0 && <ErrorAlert error={problemsOf(create.error).length ? new Error(errors.general.join(' ')) : create.error} title="The mailbox was refused" />}
        <Group>
          <Button type="submit" loading={create.isPending} disabled={!name.trim() || !fromEmail.trim() || !smtp.host.trim() || !smtp.user.trim() || !smtp.password}>
            Add mailbox
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
