/**
 * A member's working hours on the Members page (docs/ACCOUNTS.md, "Working hours"): what is in
 * force (their own, else the workspace's), and a form to change them — for the member themself
 * and for an admin. Tasks assigned to the member are due in these hours.
 */
import { Button, Checkbox, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { patch } from '../api/client.ts';
import type { Body, Member } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { timeZones } from './zones.ts';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];

export function hoursText(m: Member): string {
  const { timezone, schedule } = m.workingHours;
  const own = m.timezone !== null || m.schedule !== null;
  return `${schedule.days.join(', ')} ${schedule.start}–${schedule.end} (${timezone})${own ? '' : ' · workspace default'}`;
}

export function WorkingHoursButton({ member }: { member: Member }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const hours = member.workingHours;
  const [timezone, setTimezone] = useState<string>(hours.timezone);
  const [days, setDays] = useState<string[]>(hours.schedule.days);
  const [start, setStart] = useState(hours.schedule.start);
  const [end, setEnd] = useState(hours.schedule.end);
  const save = useMutation({
    mutationFn: (reset: boolean) =>
      patch<Member>(
        `/api/members/${member.userId}`,
        (reset
          ? { timezone: null, schedule: null }
          : { timezone, schedule: { days: days as Day[], start, end, holidays: hours.schedule.holidays } }) satisfies Body<'/api/members/{id}', 'patch'>,
      ),
    onSuccess: async () => {
      setOpen(false);
      await client.invalidateQueries({ queryKey: ['members'] });
    },
  });
  return (
    <>
      <Button size="compact-xs" variant="default" onClick={() => setOpen(true)} aria-label={`Edit hours of ${member.email}`}>
        Edit hours
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Working hours of ${member.name ?? member.email}`}>
        <Stack>
          <Text size="sm" c="dimmed">
            Tasks assigned to {member.name ?? member.email} are due in these hours.
          </Text>
          <Select label="Time zone" data={timeZones()} value={timezone} onChange={(v) => v && setTimezone(v)} searchable allowDeselect={false} />
          <Checkbox.Group label="Working days" value={days} onChange={setDays}>
            <Group gap="xs" mt={4}>
              {DAYS.map((d) => (
                <Checkbox key={d} value={d} label={d} />
              ))}
            </Group>
          </Checkbox.Group>
          <Group grow>
            <TextInput label="Start (HH:MM)" value={start} onChange={(e) => setStart(e.currentTarget.value)} />
            <TextInput label="End (HH:MM)" value={end} onChange={(e) => setEnd(e.currentTarget.value)} />
          </Group>
          <ErrorAlert error={save.error} title="The hours were not saved" />
          <Group justify="space-between">
            <Button variant="subtle" onClick={() => save.mutate(true)} loading={save.isPending && save.variables === true}>
              Use the workspace’s
            </Button>
            <Button onClick={() => save.mutate(false)} loading={save.isPending && save.variables === false}>
              Save hours
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
