/** One enrollment of the lead: where it is, when it runs next (lead's time and yours), and the controls. */
import { Badge, Button, Group, Paper, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { put } from '../api/client.ts';
import type { Enrollment } from '../api/types.ts';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, relative, statusColor, viewerZone } from '../components/format.ts';
import { Link } from '../router.tsx';
import { OutcomeModal } from './OutcomeModal.tsx';
import { actionsFor, isLiveStatus, LABEL, outcomeMatters, type Action } from './enrollmentActions.ts';

export function EnrollmentCard({ enrollment, leadZone }: { enrollment: Enrollment; leadZone: string | null | undefined }) {
  const auth = useAuth();
  const client = useQueryClient();
  const [outcomeOpen, setOutcomeOpen] = useState(false);
  const act = useMutation({
    mutationFn: (action: Action) => put<Enrollment>(`/api/sequences/enrollments/${enrollment.id}`, { action }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['lead', enrollment.lead.id] }),
  });
  const step = enrollment.currentStep;
  const stepLabel = step ? `${step.name ?? step.id} (${step.type})` : '—';
  const name = enrollment.sequenceName;
  return (
    <Paper withBorder p="md" radius="md" data-testid="enrollment" aria-label={`Enrollment in ${name}`}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap">
          <Text fw={600}>
            <Link to={`/sequences/${enrollment.sequenceId}`}>{name}</Link>
            <Text span c="dimmed" size="sm">{` v${enrollment.sequenceVersion}`}</Text>
          </Text>
          <Badge color={statusColor(enrollment.status)} data-testid="enrollment-status">
            {enrollment.status}
            {enrollment.waitingFor ? ` · ${enrollment.waitingFor}` : ''}
          </Badge>
        </Group>
        {enrollment.statusReason && <Text size="sm" c="dimmed">Reason: {enrollment.statusReason}</Text>}
        {step?.title && <Text size="sm" c="dimmed">{step.title}</Text>}
        <Text size="sm">
          Current step: <b data-testid="current-step">{stepLabel}</b>
        </Text>
        {isLiveStatus(enrollment.status) && (
          <Text size="sm" data-testid="next-run">
            {enrollment.status === 'waiting' && enrollment.waitingFor === 'branch' ? 'Waits at most until' : 'Next run'}:{' '}
            {enrollment.nextRunAt ? (
              <>
                {formatAt(enrollment.nextRunAt, leadZone)} lead's time · {formatAt(enrollment.nextRunAt)} your time ({viewerZone()}) ·{' '}
                {relative(enrollment.nextRunAt)}
              </>
            ) : enrollment.status === 'waiting' ? (
              'when an outcome is recorded or an event arrives'
            ) : (
              '—'
            )}
          </Text>
        )}
        {auth.can('operator') && actionsFor(enrollment.status).length > 0 && (
          <Group gap="xs" mt={4}>
            {actionsFor(enrollment.status).map((action) => (
              <Button
                key={action}
                size="xs"
                variant={action === 'cancel' ? 'light' : 'default'}
                color={action === 'cancel' ? 'red' : undefined}
                loading={act.isPending && act.variables === action}
                onClick={() => act.mutate(action)}
              >
                {LABEL[action]}
              </Button>
            ))}
            {outcomeMatters(enrollment.status, step) && (
              <Button size="xs" onClick={() => setOutcomeOpen(true)}>
                Record outcome
              </Button>
            )}
          </Group>
        )}
        <ErrorAlert error={act.error} title="The action was refused" />
      </Stack>
      <OutcomeModal enrollment={enrollment} opened={outcomeOpen} onClose={() => setOutcomeOpen(false)} />
    </Paper>
  );
}
