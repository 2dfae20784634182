/** Record a manual outcome on an enrollment: unblocks a waiting task or an outcome branch. */
import { Autocomplete, Button, Group, Modal, Select, Stack, Text, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../api/client.ts';
import type { Enrollment } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

const COMMON = ['connected', 'meeting_booked', 'no_answer', 'voicemail', 'not_interested', 'done', 'skipped'];

export function recordOutcome(enrollmentId: string, body: { outcome: string; channel?: string; note?: string }) {
  return post(`/api/sequences/enrollments/${enrollmentId}/outcomes`, body);
}

export function OutcomeModal({ enrollment, opened, onClose }: { enrollment: Enrollment; opened: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const expected = enrollment.currentStep?.outcomes ?? [];
  const [outcome, setOutcome] = useState('');
  const [channel, setChannel] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const save = useMutation({
    mutationFn: (value: string) => recordOutcome(enrollment.id, { outcome: value, channel: channel ?? undefined, note: note || undefined }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['lead', enrollment.lead.id] });
      void client.invalidateQueries({ queryKey: ['tasks'] });
      setOutcome('');
      setNote('');
      onClose();
    },
  });
  return (
    <Modal opened={opened} onClose={onClose} title="Record an outcome">
      <Stack>
        {expected.length > 0 && (
          <>
            <Text size="sm">This step waits for one of these outcomes:</Text>
            <Group gap="xs">
              {expected.map((o) => (
                <Button key={o} size="xs" variant="light" onClick={() => save.mutate(o)} loading={save.isPending && save.variables === o}>
                  {o}
                </Button>
              ))}
            </Group>
          </>
        )}
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (outcome.trim()) save.mutate(outcome.trim());
          }}
        >
          <Stack>
            <Autocomplete label="Outcome" placeholder="e.g. meeting_booked" data={[...new Set([...expected, ...COMMON])]} value={outcome} onChange={setOutcome} />
            <Select label="Channel (optional)" clearable data={['email', 'sms', 'voice']} value={channel} onChange={setChannel} />
            <Textarea label="Note (optional)" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
            <ErrorAlert error={save.error} title="The outcome was refused" />
            <Group justify="flex-end">
              <Button type="submit" disabled={!outcome.trim()} loading={save.isPending}>
                Record outcome
              </Button>
            </Group>
          </Stack>
        </form>
      </Stack>
    </Modal>
  );
}
