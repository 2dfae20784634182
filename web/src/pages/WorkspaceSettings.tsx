/**
 * The workspace's settings (`PATCH /api/workspaces/{id}`): name, time zone, the schedule and
 * quiet hours a new sequence starts from (or the built-in ones), and the holidays new sequences
 * take. Existing sequences keep what they were created with (docs/SEQUENCES.md, "Workspace
 * defaults"), and the page says so. Everyone reads them; admins change them. Loaded lazily: the core's rules it
 * imports bring zod, which the first page does without.
 */
import { Badge, Button, Checkbox, CloseButton, Group, Paper, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { CHANNELS, LOCAL_DATE_PATTERN, WEEKDAYS } from '../../../src/core/definition.ts';
import { get, patch } from '../api/client.ts';
import type { Body, Workspace } from '../api/types.ts';
import { timeZones } from '../account/zones.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

type Patch = Body<'/api/workspaces/{id}', 'patch'>;
type Weekday = (typeof WEEKDAYS)[number];
type Channel = (typeof CHANNELS)[number];
interface ScheduleForm {
  timezone: string;
  days: Weekday[];
  start: string;
  end: string;
}
interface QuietForm {
  start: string;
  end: string;
  channels: Channel[];
}

const BUILT_IN_SCHEDULE: ScheduleForm = { timezone: 'lead', days: [...WEEKDAYS], start: '08:00', end: '21:00' };
const BUILT_IN_QUIET: QuietForm = { start: '21:00', end: '08:00', channels: ['sms', 'voice'] };

/** What the form edits, from what the server stored (unknown JSON: read field by field). */
function scheduleOf(stored: unknown): ScheduleForm | null {
  if (!stored || typeof stored !== 'object') return null;
  const s = stored as Partial<ScheduleForm>;
  return { ...BUILT_IN_SCHEDULE, ...s };
}
function quietOf(stored: unknown): QuietForm | null {
  if (!stored || typeof stored !== 'object') return null;
  return { ...BUILT_IN_QUIET, ...(stored as Partial<QuietForm>) };
}

function SettingsForm({ workspace, readOnly }: { workspace: Workspace; readOnly: boolean }) {
  const auth = useAuth();
  const client = useQueryClient();
  const zones = useMemo(timeZones, []);
  const [name, setName] = useState(workspace.name);
  const [timezone, setTimezone] = useState(workspace.timezone);
  const [schedule, setSchedule] = useState(scheduleOf(workspace.defaultSchedule));
  const [quiet, setQuiet] = useState(quietOf(workspace.defaultQuietHours));
  const [holidays, setHolidays] = useState(workspace.holidays);
  const [holiday, setHoliday] = useState('');
  const save = useMutation({
    mutationFn: () =>
      patch<Workspace>(`/api/workspaces/${workspace.id}`, {
        name: name.trim(),
        timezone,
        defaultSchedule: schedule,
        defaultQuietHours: quiet,
        holidays,
      } satisfies Patch),
    onSuccess: async (saved) => {
      client.setQueryData(['workspace', workspace.id], saved);
      if (saved.name !== workspace.name) await auth.signedIn(workspace.id); // the header and switcher show the new name
    },
  });
  const addHoliday = () => {
    if (!LOCAL_DATE_PATTERN.test(holiday) || holidays.includes(holiday)) return;
    setHolidays([...holidays, holiday].sort());
    setHoliday('');
  };
  const disabled = readOnly || save.isPending;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <Stack>
        <Paper withBorder p="md">
          <Stack gap="xs">
            <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={disabled} required />
            <Select
              label="Time zone"
              description="The workspace's own zone: for leads without one, and for holidays"
              data={zones.includes(timezone) ? zones : [timezone, ...zones]}
              value={timezone}
              onChange={(v) => v && setTimezone(v)}
              searchable
              allowDeselect={false}
              disabled={disabled}
            />
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Switch
              label="A default sending window for new sequences"
              description={schedule ? 'New sequences start from this window' : 'Off: new sequences start from the built-in one (every day, 08:00–21:00 in the lead’s zone)'}
              checked={schedule !== null}
              onChange={(e) => setSchedule(e.currentTarget.checked ? BUILT_IN_SCHEDULE : null)}
              disabled={disabled}
            />
            {schedule && (
              <>
                <Checkbox.Group label="Days" value={schedule.days} onChange={(days) => setSchedule({ ...schedule, days: days as Weekday[] })}>
                  <Group gap="sm" mt={4}>
                    {WEEKDAYS.map((d) => (
                      <Checkbox key={d} value={d} label={d} disabled={disabled} />
                    ))}
                  </Group>
                </Checkbox.Group>
                <Group>
                  <TextInput label="From" placeholder="HH:MM" value={schedule.start} onChange={(e) => setSchedule({ ...schedule, start: e.currentTarget.value })} disabled={disabled} w={110} />
                  <TextInput label="Until" placeholder="HH:MM" value={schedule.end} onChange={(e) => setSchedule({ ...schedule, end: e.currentTarget.value })} disabled={disabled} w={110} />
                  <Select
                    label="In the time zone of"
                    data={[{ value: 'lead', label: 'each lead' }, ...zones.map((z) => ({ value: z, label: z }))]}
                    value={schedule.timezone}
                    onChange={(v) => v && setSchedule({ ...schedule, timezone: v })}
                    searchable
                    allowDeselect={false}
                    disabled={disabled}
                    w={240}
                  />
                </Group>
              </>
            )}
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Switch
              label="Default quiet hours for new sequences"
              description={quiet ? 'No text or call in these hours, in the lead’s zone' : 'Off: new sequences start from the built-in ones (21:00–08:00, SMS and calls)'}
              checked={quiet !== null}
              onChange={(e) => setQuiet(e.currentTarget.checked ? BUILT_IN_QUIET : null)}
              disabled={disabled}
            />
            {quiet && (
              <Group align="flex-end">
                <TextInput label="From" placeholder="HH:MM" value={quiet.start} onChange={(e) => setQuiet({ ...quiet, start: e.currentTarget.value })} disabled={disabled} w={110} />
                <TextInput label="Until" placeholder="HH:MM" value={quiet.end} onChange={(e) => setQuiet({ ...quiet, end: e.currentTarget.value })} disabled={disabled} w={110} />
                <Checkbox.Group label="Channels" value={quiet.channels} onChange={(channels) => setQuiet({ ...quiet, channels: channels as Channel[] })}>
                  <Group gap="sm" mt={4}>
                    {CHANNELS.map((c) => (
                      <Checkbox key={c} value={c} label={c} disabled={disabled} />
                    ))}
                  </Group>
                </Checkbox.Group>
              </Group>
            )}
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Text fw={500} size="sm">
              Holidays
            </Text>
            <Text size="xs" c="dimmed">
              New sequences take these days as holidays: no step of theirs runs on them.
            </Text>
            <Group gap="xs" data-testid="holidays">
              {holidays.length === 0 && <Text size="sm" c="dimmed">None.</Text>}
              {holidays.map((h) => (
                <Badge key={h} variant="light" rightSection={readOnly ? null : <CloseButton size="xs" aria-label={`Remove ${h}`} onClick={() => setHolidays(holidays.filter((x) => x !== h))} />}>
                  {h}
                </Badge>
              ))}
            </Group>
            {!readOnly && (
              <Group align="flex-end">
                <TextInput label="Add a holiday" type="date" value={holiday} onChange={(e) => setHoliday(e.currentTarget.value)} w={180} />
                <Button variant="default" onClick={addHoliday} disabled={!LOCAL_DATE_PATTERN.test(holiday)}>
                  Add
                </Button>
              </Group>
            )}
          </Stack>
        </Paper>
        <ErrorAlert error={save.error} title="The settings were not saved" />
        {save.isSuccess && !save.isPending && <Text size="sm" c="green.8" data-testid="settings-saved">Saved.</Text>}
        {!readOnly && (
          <Group>
            <Button type="submit" loading={save.isPending} disabled={!name.trim()}>
              Save settings
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}

export function WorkspaceSettingsPage() {
  const auth = useAuth();
  const id = auth.workspace?.id;
  // Read once: a refetch on focus must not wipe what an admin is typing.
  const workspace = useQuery({ queryKey: ['workspace', id], queryFn: () => get<Workspace>(`/api/workspaces/${id}`), enabled: Boolean(id), staleTime: Infinity, refetchOnWindowFocus: false });
  return (
    <Stack>
      <Title order={2}>Workspace settings</Title>
      {!auth.can('admin') && <Text size="sm" c="dimmed">Only admins change these.</Text>}
      <Text size="sm" c="dimmed" data-testid="defaults-note">
        The sending window, quiet hours and holidays below are copied into each new sequence when it is created. A sequence keeps what it was created
        with: changing them here does not change existing sequences (edit a sequence's schedule for that).
      </Text>
      <ErrorAlert error={workspace.error} title="The settings could not be loaded" />
      {workspace.data && <SettingsForm key={workspace.data.id} workspace={workspace.data} readOnly={!auth.can('admin')} />}
    </Stack>
  );
}
