/**
 * Demo data (docs/DASHBOARD.md, "Demo data"): a banner on every page while the workspace holds
 * some, saying so and how to remove it (a button for admins, the command for everyone), and the
 * "Load demo data" button a newcomer finds on an empty lead list.
 */
import { Alert, Button, Code, Group, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, post } from '../api/client.ts';
import type { Answer } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

type DemoState = Answer<'/api/demo', 'get'>;
const DEMO_KEY = ['demo'];

export function useDemoState() {
  return useQuery({ queryKey: DEMO_KEY, queryFn: () => get<DemoState>('/api/demo'), staleTime: 30_000 });
}

export function DemoBanner() {
  const auth = useAuth();
  const client = useQueryClient();
  const demo = useDemoState();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => del<Answer<'/api/demo', 'delete'>>('/api/demo'),
    onSuccess: () => {
      setConfirming(false);
      void client.invalidateQueries();
    },
  });
  if (!demo.data?.present) return null;
  const { leads, sequences } = demo.data;
  return (
    <Alert color="yellow" variant="light" mb="md" title="This workspace holds demo data" data-testid="demo-banner">
      <Group justify="space-between" align="flex-end" gap="sm">
        <Text size="sm" maw={720}>
          {leads} demo lead{leads === 1 ? '' : 's'} (example.com addresses) and {sequences} demo sequence{sequences === 1 ? '' : 's'} (named
          “Demo · …”) run on mock delivery: nothing leaves this machine, and replies are simulated. Remove them with{' '}
          <Code>npx touchpoint seed --demo --remove</Code>
          {auth.can('admin') ? ' or the button.' : ' (an admin can also do it here).'}
        </Text>
        {auth.can('admin') && (
          <Button color="yellow" variant="outline" size="xs" onClick={() => setConfirming(true)}>
            Remove demo data
          </Button>
        )}
      </Group>
      <ConfirmDialog
        opened={confirming}
        title="Remove the demo data?"
        confirmLabel="Remove demo data"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setConfirming(false)}
      >
        {`${leads} demo leads with their sequences, replies and timelines, and ${sequences} demo sequences will be deleted. Your own leads and sequences stay as they are.`}
      </ConfirmDialog>
    </Alert>
  );
}

/** For an empty lead list: fills the workspace with demo data whose first steps run within a minute. */
export function LoadDemoButton() {
  const auth = useAuth();
  const client = useQueryClient();
  const demo = useDemoState();
  const load = useMutation({
    mutationFn: () => post<Answer<'/api/demo', 'post'>>('/api/demo'),
    onSuccess: () => void client.invalidateQueries(),
  });
  if (!auth.can('admin') || demo.data?.mockDelivery === false) return null;
  return (
    <>
      <Button variant="light" onClick={() => load.mutate()} loading={load.isPending}>
        Load demo data
      </Button>
      <ErrorAlert error={load.error} title="Demo data was not loaded" />
    </>
  );
}
