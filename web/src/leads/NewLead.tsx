/** Add one lead by hand: an email or a phone is enough; the server normalises and validates. */
import { Button, Group, Modal, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../api/client.ts';
import type { Lead } from '../api/types.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { fieldErrors } from '../components/fieldErrors.ts';
import { navigate } from '../router.tsx';

const FIELDS = [
  ['firstName', 'First name'],
  ['lastName', 'Last name'],
  ['email', 'Email'],
  ['phone', 'Phone (E.164, e.g. +14155550123)'],
  ['company', 'Company'],
  ['title', 'Job title'],
  ['timezone', 'Time zone (e.g. America/Chicago)'],
] as const;
const LABELS: Record<string, string> = Object.fromEntries(FIELDS.map(([key, label]) => [key, label.replace(/ \(.*\)$/, '')]));

export function NewLead({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [values, setValues] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => post<Lead>('/api/leads', Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''))),
    onSuccess: (lead) => {
      void client.invalidateQueries({ queryKey: ['leads'] });
      setValues({});
      onClose();
      navigate(`/leads/${lead.id}`);
    },
  });
  const errors = fieldErrors(create.error, LABELS);
  return (
    <Modal opened={opened} onClose={onClose} title="Add a lead" size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Stack>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {FIELDS.map(([key, label]) => (
              <TextInput key={key} label={label} error={errors.byField[key]} value={values[key] ?? ''} onChange={(e) => setValues({ ...values, [key]: e.currentTarget.value })} />
            ))}
          </SimpleGrid>
          <ErrorAlert error={create.error} title="The lead was not added" labels={LABELS} shownByFields />
          <Group justify="flex-end">
            <Button type="submit" loading={create.isPending} disabled={!values.email?.trim() && !values.phone?.trim()}>
              Add lead
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
