/** One enrollment of the lead: where it is, when it runs next (lead's time and yours), and the controls. */
import { Badge, Button, Group, Paper, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { CANCEL_UNDO_WINDOW_MS } from '../../../src/core/transitions.ts';
import { get, post, put } from '../api/client.ts';
import type { Answer, Enrollment } from '../api/types.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { useAuth } from '../auth.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { formatAt, relative, statusColor, viewerZone } from '../components/format.ts';
import { Link } from '../router.tsx';
import { OutcomeModal } from './OutcomeModal.tsx';
import { actionsFor, isLiveStatus, LABEL, outcomeMatters, type Action } from './enrollmentActions.ts';
import { stepsAhead, stepsAheadSentence } from './stepsAhead.ts';

/** Actions that end the enrollment for good: asked first, with a reason. */
const CONFIRMED: ReadonlySet<Action> = new Set(['cancel', 'convert']);

/** What ending the enrollment gives up, from its own version's steps. */
function Consequences({ enrollment, action }: { enrollment: Enrollment; action: Action }) {
  const version = useQuery({
    queryKey: ['sequence', enrollment.sequenceId, 'version', enrollment.sequenceVersion],
    queryFn: () => get<Answer<'/api/sequences/{id}/versions/{version}', 'get'>>(`/api/sequences/${enrollment.sequenceId}/versions/${enrollment.sequenceVersion}`),
    staleTime: Infinity, // a version never changes once written
  });
  const steps = ((version.data?.definition as { steps?: unknown[] } | undefined)?.steps ?? []) as unknown[];
  // An active enrollment has not run its current step yet; a waiting one is in it (its task or branch is open).
  const ahead = stepsAhead(steps, enrollment.currentStep?.id, enrollment.status !== 'completed');
  const name = enrollment.sequenceName;
  return (
    <Stack gap={4}>
      <Text size="sm">
        {action === 'cancel'
          ? `The lead leaves “${name}” now, at step ${enrollment.currentStep?.name ?? enrollment.currentStep?.id ?? '—'}.`
          : `The lead is marked converted: “${name}” ends, and so does every other running sequence of the lead whose exit rules list “converted” (the default).`}
      </Text>
      {enrollment.status !== 'completed' && (
        <Text size="sm" fw={500} data-testid="steps-ahead">
          {version.isLoading ? 'Counting the steps ahead…' : stepsAheadSentence(ahead)}
        </Text>
      )}
      <Text size="sm" c="dimmed">
        {action === 'cancel'
          ? `You can undo a cancel for ${CANCEL_UNDO_WINDOW_MS / 1000} seconds; after that, enroll the lead again to start over.`
          : 'A conversion cannot be undone.'}
      </Text>
    </Stack>
  );
}

/** Seconds left to undo a cancel made at `at` (0 when the window has passed), ticking. */
function useUndoSecondsLeft(at: string | null | undefined, active: boolean): number {
  const left = () => (at ? Math.max(0, Math.ceil((new Date(at).getTime() + CANCEL_UNDO_WINDOW_MS - Date.now()) / 1000)) : 0);
  const [seconds, setSeconds] = useState(left);
  useEffect(() => {
    if (!active) return;
    setSeconds(left());
    const timer = setInterval(() => setSeconds(left()), 1000);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [at, active]);
  return active ? seconds : 0;
}

export function EnrollmentCard({ enrollment, leadZone }: { enrollment: Enrollment; leadZone: string | null | undefined }) {
  const auth = useAuth();
  const client = useQueryClient();
  const [outcomeOpen, setOutcomeOpen] = useState(false);
  const [confirming, setConfirming] = useState<Action | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['lead', enrollment.lead.id] });
  const act = useMutation({
    mutationFn: ({ action, reason }: { action: Action; reason?: string }) => put<Enrollment>(`/api/sequences/enrollments/${enrollment.id}`, { action, reason }),
    onSuccess: () => {
      setConfirming(null);
      return refresh();
    },
  });
  const undo = useMutation({
    mutationFn: () => post<Enrollment>(`/api/sequences/enrollments/${enrollment.id}/undo-cancel`, {}),
    onSuccess: refresh,
  });
  const undoSeconds = useUndoSecondsLeft(enrollment.finishedAt, enrollment.status === 'cancelled');
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
                loading={act.isPending && act.variables?.action === action}
                onClick={() => (CONFIRMED.has(action) ? setConfirming(action) : act.mutate({ action }))}
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
        {auth.can('operator') && undoSeconds > 0 && (
          <Group gap="xs" data-testid="undo-cancel">
            <Text size="sm">Cancelled just now.</Text>
            <Button size="xs" variant="filled" loading={undo.isPending} onClick={() => undo.mutate()}>
              Undo cancel ({undoSeconds} s)
            </Button>
          </Group>
        )}
        <ErrorAlert error={confirming ? null : act.error} title="The action was refused" />
        <ErrorAlert error={undo.error} title="The cancel could not be undone" />
      </Stack>
      {confirming && (
        <ConfirmDialog
          opened
          title={confirming === 'cancel' ? `Cancel the enrollment in “${name}”?` : `Mark the lead converted in “${name}”?`}
          confirmLabel={confirming === 'cancel' ? 'Cancel enrollment' : 'Mark converted'}
          withReason
          pending={act.isPending}
          error={act.error}
          onConfirm={(reason) => act.mutate({ action: confirming, reason })}
          onClose={() => {
            setConfirming(null);
            act.reset();
          }}
        >
          <Consequences enrollment={enrollment} action={confirming} />
        </ConfirmDialog>
      )}
      <OutcomeModal enrollment={enrollment} opened={outcomeOpen} onClose={() => setOutcomeOpen(false)} />
    </Paper>
  );
}
