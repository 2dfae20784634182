/** Log a manual touchpoint (note, call, email, meeting) on the lead's timeline. */
import { Button, Group, Paper, Select, Stack, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../api/client.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

export function LogActivity({ leadId }: { leadId: string }) {
  const client = useQueryClient();
  const [kind, setKind] = useState<string | null>('note');
  const [outcome, setOutcome] = useState('');
  const [body, setBody] = useState('');
  const save = useMutation({
    mutationFn: () => post(`/api/leads/${leadId}/activities`, { kind, outcome: outcome || undefined, body: body || undefined }),
    onSuccess: () => {
      setBody('');
      setOutcome('');
      void client.invalidateQueries({ queryKey: ['lead', leadId] });
    },
  });
  return (
    <Paper withBorder p="md" radius="md">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <Stack gap="xs">
          <Title order={4}>Log an activity</Title>
          <Group grow preventGrowOverflow={false} wrap="wrap">
            <Select label="Kind" data={['note', 'call', 'email', 'sms', 'meeting']} value={kind} onChange={setKind} allowDeselect={false} />
            <TextInput label="Outcome (optional)" placeholder="e.g. connected" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)} />
          </Group>
          <Textarea label="What happened" value={body} onChange={(e) => setBody(e.currentTarget.value)} autosize minRows={2} />
          <ErrorAlert error={save.error} title="The activity was not saved" />
          <Group justify="flex-end">
            <Button type="submit" loading={save.isPending} disabled={!body.trim() && !outcome.trim()}>
              Log activity
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
