/**
 * The embedded default (mock delivery): calls report outcomes as events, so call branches move
 * in a demo without any provider; emails carry an unsubscribe link to the local API.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { validateDefinition } from '../../src/core/validate.ts';
import { parseConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/db.ts';
import { insertLeads } from '../../src/db/leads.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { OPEN } from './liveKit.ts';

const definition = {
  name: 'Call then branch',
  ...OPEN,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello {{ lead.firstName }}' },
    { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName }}', voicemail: 'Call me back' },
    { id: 'picked-up', type: 'branch', when: { event: 'call.answered', step: 'call' }, within: 'PT1H', then: 'human', else: 'other' },
    { id: 'human', type: 'end' },
    { id: 'other', type: 'end' },
  ],
};

let db: Db | undefined;
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  await db?.close();
});

async function run(env: Record<string, string>) {
  db = await openMemoryDatabase();
  runtime = await createRuntime(parseConfig({ LOG_LEVEL: 'silent', PORT: '3999', ...env }), { db, clock: new ManualClock('2026-03-04T15:00:00Z'), worker: false });
  const workspace = await ensureWorkspace(db, 'demo');
  const [lead] = await insertLeads(db, workspace.id, [{ email: 'sam@acme.test', phone: '+15556660001', firstName: 'Sam', timezone: 'America/New_York' }]);
  const parsed = validateDefinition(definition);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const sequence = await createSequence(db, workspace.id, parsed.definition, 'active');
  const enrolled = await runtime.engine.enroll({ workspaceId: workspace.id, sequenceId: sequence.id, leadIds: [lead!.id], actor: 'test' });
  if (!enrolled.ok) throw new Error(enrolled.message);
  await runtime.engine.dispatcher.drain();
  const steps = await db.query<{ stepId: string }>(`select step_id as "stepId" from sequence_executions order by started_at, visit`);
  const events = await db.query<{ type: string; provider: string }>(`select type, provider from events order by type`);
  return { steps: steps.map((s) => s.stepId), events };
}

describe('mock call outcomes', () => {
  test('by default a mock call is answered: the branch takes `then` at once, and the timeline shows the call', async () => {
    const { steps, events } = await run({});
    expect(steps).toEqual(['intro', 'call', 'picked-up', 'human']);
    expect(events).toEqual([
      { type: 'call.answered', provider: 'mock' },
      { type: 'call.completed', provider: 'mock' },
    ]);
    const [email] = runtime!.mock!.sends;
    expect(email!.payload.text).toMatch(/Unsubscribe: http:\/\/localhost:3999\/unsubscribe\/[\w-]+\.[\w-]+$/);
  });

  test('MOCK_CALL_OUTCOME=voicemail reports a voicemail; none reports nothing', async () => {
    expect((await run({ MOCK_CALL_OUTCOME: 'voicemail' })).events.map((e) => e.type)).toEqual(['call.completed', 'call.voicemail']);
    await runtime!.close();
    await db!.close();
    expect((await run({ MOCK_CALL_OUTCOME: 'none' })).events).toEqual([]);
  });
});
