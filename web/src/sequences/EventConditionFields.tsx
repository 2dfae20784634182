/**
 * The branch's "an event" condition: a catalogue event (optionally of one step), or a custom
 * event (`custom.<name>`, posted to /api/events) with an optional test on one of its properties.
 */
import { Group, Select, Stack, Switch, TextInput } from '@mantine/core';
import { leadConditionSchema } from '../../../src/core/definition.ts';
import {
  CUSTOM_EVENT_PREFIX,
  EVENT_TYPES,
  asCustomEvent,
  customEventProblem,
  formatConditionValue,
  isMeantCustom,
  opTakesValue,
  parseConditionValue,
  withEvent,
  withWhere,
  type EventCondition,
} from './customEvents.ts';

const OPS = leadConditionSchema.shape.op.options;
const CUSTOM = '__custom__';

interface Props {
  when: EventCondition;
  stepIds: string[];
  readOnly: boolean;
  onChange: (when: EventCondition) => void;
}

export function EventConditionFields({ when, stepIds, readOnly, onChange }: Props) {
  const event = when.event ?? 'email.opened';
  // A custom name being typed may be invalid (or empty) for a while; the prefix says it is meant
  // as one, and the field shows the core's sentence until it is valid.
  const custom = isMeantCustom(event);
  const where = when.where;

  const pick = (value: string | null) => {
    if (value === CUSTOM) onChange(withEvent(when, CUSTOM_EVENT_PREFIX));
    else onChange(withEvent(when, value ?? 'email.opened'));
  };

  return (
    <Stack gap="xs">
      <Group grow preventGrowOverflow={false} wrap="wrap">
        <Select
          label="Event"
          data={[{ group: 'Catalogue', items: [...EVENT_TYPES] }, { group: 'From another system', items: [{ value: CUSTOM, label: 'Custom event…' }] }]}
          value={custom ? CUSTOM : event}
          onChange={pick}
          readOnly={readOnly}
        />
        {custom ? (
          <TextInput
            label="Custom event"
            description="As posted to /api/events"
            placeholder="custom.demo_booked"
            value={event}
            onChange={(e) => onChange(withEvent(when, asCustomEvent(e.currentTarget.value)))}
            error={customEventProblem(event)}
            readOnly={readOnly}
          />
        ) : (
          <Select label="Of step (optional)" data={stepIds} value={when.step ?? null} clearable onChange={(v) => onChange(v ? { ...when, step: v } : { event })} readOnly={readOnly} />
        )}
      </Group>
      {custom && (
        <Switch
          label="Only when a property matches"
          checked={where !== undefined}
          onChange={(e) => onChange(e.currentTarget.checked ? { ...when, where: { property: 'plan', op: 'eq', value: '' } } : { event })}
          disabled={readOnly}
        />
      )}
      {custom && where && (
        <Group grow preventGrowOverflow={false} wrap="wrap">
          <TextInput label="Property" value={where.property} onChange={(e) => onChange({ ...when, where: withWhere(where, { property: e.currentTarget.value }) })} readOnly={readOnly} />
          <Select label="Test" data={OPS} value={where.op} onChange={(v) => onChange({ ...when, where: withWhere(where, { op: v ?? 'eq' }) })} readOnly={readOnly} />
          {opTakesValue(where.op) && (
            <TextInput
              label="Value"
              description="Numbers, true/false and [lists] are read as JSON"
              value={formatConditionValue(where.value)}
              onChange={(e) => onChange({ ...when, where: withWhere(where, { value: parseConditionValue(e.currentTarget.value) }) })}
              readOnly={readOnly}
            />
          )}
        </Group>
      )}
    </Stack>
  );
}
