/**
 * The sequence's event rules: `exitOn` (catalogue events, `converted`, custom events) and the
 * `trigger` that enrolls a lead when a custom event about it arrives (docs/SEQUENCES.md); and
 * `skipMissingChannels`, whether a lead lacking one channel's address is enrolled; the
 * `mailboxes` its emails go out from.
 */
import { Group, Paper, Stack, Switch, TagsInput, Text, TextInput } from '@mantine/core';
import type { SequenceDefinition } from '../api/types.ts';
import { MailboxPicker } from './MailboxPicker.tsx';
import { CUSTOM_EVENT_PREFIX, EXIT_TRIGGERS, asCustomEvent, badExitRules, customEventProblem, exitRulesOf } from './customEvents.ts';

interface Props {
  definition: SequenceDefinition;
  readOnly: boolean;
  onChange: (definition: SequenceDefinition) => void;
}

type Trigger = { event: string; reentry?: boolean };

export function SequenceSettings({ definition, readOnly, onChange }: Props) {
  const exitOn = exitRulesOf(definition);
  const bad = badExitRules(exitOn);
  const trigger = definition.trigger;
  const setTrigger = (next: Trigger | undefined) => {
    const copy: SequenceDefinition = { ...definition, trigger: next };
    if (!next) delete copy.trigger;
    onChange(copy);
  };
  return (
    <Paper withBorder p="md" radius="md" data-testid="sequence-settings">
      <Stack gap="xs">
        <Text fw={600}>Events</Text>
        <TagsInput
          label="Exit when"
          description="Catalogue events, converted, or a custom event typed as custom.<name>"
          data={[...EXIT_TRIGGERS]}
          value={exitOn}
          onChange={(rules) => onChange({ ...definition, exitOn: rules })}
          error={bad.length ? `Not an exit rule: ${bad.join(', ')} (custom events must be "custom." then letters, digits, "_", "-", "." or ":")` : undefined}
          readOnly={readOnly}
          clearable
        />
        <Switch
          label="Start this sequence for a lead when a custom event about them arrives"
          checked={trigger !== undefined}
          onChange={(e) => setTrigger(e.currentTarget.checked ? { event: `${CUSTOM_EVENT_PREFIX}trial_started`, reentry: false } : undefined)}
          disabled={readOnly}
        />
        {trigger && (
          <Group grow preventGrowOverflow={false} wrap="wrap" align="flex-start">
            <TextInput
              label="Trigger event"
              value={trigger.event}
              onChange={(e) => setTrigger({ ...trigger, event: asCustomEvent(e.currentTarget.value) })}
              error={customEventProblem(trigger.event)}
              readOnly={readOnly}
            />
            <Switch
              mt="xl"
              label="Again after the lead's enrollment ended"
              checked={trigger.reentry === true}
              onChange={(e) => setTrigger({ ...trigger, reentry: e.currentTarget.checked })}
              disabled={readOnly}
            />
          </Group>
        )}
        <Text fw={600} mt="xs">
          Sending
        </Text>
        <MailboxPicker definition={definition} readOnly={readOnly} onChange={onChange} />
        <Text fw={600} mt="xs">
          Enrolling
        </Text>
        <Switch
          label="Enroll leads that lack a channel (no phone for an SMS step) and skip the steps they cannot receive"
          description="Off: such a lead is refused from the whole sequence. A lead with no address for any channel it uses is refused either way."
          checked={definition.skipMissingChannels !== false}
          onChange={(e) => {
            const copy: SequenceDefinition = { ...definition, skipMissingChannels: e.currentTarget.checked };
            if (e.currentTarget.checked) delete copy.skipMissingChannels; // the default: keep the document short
            onChange(copy);
          }}
          disabled={readOnly}
        />
      </Stack>
    </Paper>
  );
}
