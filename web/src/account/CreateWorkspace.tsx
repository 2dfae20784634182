/** Create a workspace (the signed-in person becomes its admin) and switch to it. */
import { Button, Modal, Select, Stack, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { post } from '../api/client.ts';
import type { Body, Workspace } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { browserZone, timeZones } from './zones.ts';

export function CreateWorkspaceForm({ onDone }: { onDone?: () => void }) {
  const auth = useAuth();
  const zones = useMemo(timeZones, []);
  const [name, setName] = useState('');
  const [timezone, setTimezone] = useState<string | null>(browserZone());
  const create = useMutation({
    mutationFn: () => post<Workspace>('/api/workspaces', { name: name.trim(), timezone: timezone ?? undefined } satisfies Body<'/api/workspaces', 'post'>),
    onSuccess: async (workspace) => {
      await auth.signedIn(workspace.id);
      onDone?.();
    },
  });
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate();
      }}
    >
      <Stack>
        <TextInput label="Workspace name" placeholder="Acme Sales" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus />
        <Select label="Time zone" data={zones} value={timezone} onChange={setTimezone} searchable allowDeselect={false} />
        <ErrorAlert error={create.error} title="The workspace was not created" />
        <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
          Create workspace
        </Button>
      </Stack>
    </form>
  );
}

export function CreateWorkspaceModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="New workspace">
      <CreateWorkspaceForm onDone={onClose} />
    </Modal>
  );
}
