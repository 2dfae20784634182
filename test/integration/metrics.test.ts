/**
 * Metrics through injected observers: each runtime has its own registry (two in one process count
 * apart), and `touchpoint_webhooks_total` counts every webhook where it is answered, by provider
 * and outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config.ts';
import { validateDefinition } from '../../src/core/validate.ts';
import { insertLeads } from '../../src/db/leads.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { postmarkEvent } from '../../src/devtools/fakes/postmarkEvents.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ALWAYS_OPEN, lead, NO_QUIET_HOURS } from '../helpers/engineKit.ts';
import { metricValue } from '../distributed/harness.ts';

const POSTMARK = { POSTMARK_WEBHOOK_USER: 'pm-hooks', POSTMARK_WEBHOOK_PASSWORD: 'pm-hooks-secret-1234' };
const METRICS_TOKEN = 'metrics-token-0123456789';

let database: TestDatabase;
let one: Runtime;
let two: Runtime;
const clock = new ManualClock('2026-03-04T15:00:00Z');

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  const config = parseConfig({ LOG_LEVEL: 'silent', METRICS_TOKEN, WEBHOOK_AUTH_FAILURES_PER_MINUTE: '0', ...POSTMARK });
  one = await createRuntime(config, { db: database.db, clock, worker: false });
  two = await createRuntime(config, { db: database.db, clock, worker: false });
});
afterAll(async () => {
  await one?.close();
  await two?.close();
  await database?.close();
});

const scrape = async (runtime: Runtime) =>
  (await runtime.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).body;
/** A series a registry never touched is absent from its text: zero. */
const counted = async (runtime: Runtime, series: string) => {
  const value = metricValue(await scrape(runtime), series);
  return Number.isNaN(value) ? 0 : value;
};
const webhooks = (runtime: Runtime, outcome: string) => counted(runtime, `touchpoint_webhooks_total{provider="postmark",outcome="${outcome}"}`);

describe('metrics per runtime', () => {
  let providerMessageId: string;

  it('two runtimes in one process count apart', async () => {
    const workspace = await ensureWorkspace(database.db, 'metrics');
    const [leadRow] = await insertLeads(database.db, workspace.id, [lead(1)]);
    const checked = validateDefinition({
      name: 'One email',
      schedule: ALWAYS_OPEN,
      quietHours: NO_QUIET_HOURS,
      steps: [{ id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' }],
    });
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    const sequence = await createSequence(database.db, workspace.id, checked.definition, 'active');
    const enrolled = await one.engine.enroll({ workspaceId: workspace.id, sequenceId: sequence.id, leadIds: [leadRow!.id], actor: 'test' });
    expect(enrolled.ok).toBe(true);
    expect(await one.engine.dispatcher.drain()).toBe(1);
    providerMessageId = one.mock!.sends[0]!.providerMessageId;

    expect(await counted(one, 'touchpoint_deliveries_total{channel="email",adapter="mock",outcome="sent"}')).toBe(1);
    expect(await counted(one, 'touchpoint_step_executions_total{type="email",status="succeeded"}')).toBe(1);
    expect(await counted(two, 'touchpoint_deliveries_total{channel="email",adapter="mock",outcome="sent"}')).toBe(0);
    expect(await counted(two, 'touchpoint_step_executions_total{type="email",status="succeeded"}')).toBe(0);
  });

  it('counts webhooks by provider and outcome: recorded, duplicate, unmatched, rejected, refused', async () => {
    const post = (payload: string, auth = `Basic ${Buffer.from(`${POSTMARK.POSTMARK_WEBHOOK_USER}:${POSTMARK.POSTMARK_WEBHOOK_PASSWORD}`).toString('base64')}`) =>
      two.app.inject({ method: 'POST', url: '/webhooks/postmark', payload, headers: { 'content-type': 'application/json', authorization: auth } });
    const delivered = JSON.stringify(postmarkEvent('Delivery', { messageId: providerMessageId, recipient: 'lead1@acme.test', at: '2026-03-04T15:00:05Z' }));

    expect((await post(delivered)).json()).toMatchObject({ recorded: 1 });
    expect((await post(delivered)).json()).toMatchObject({ duplicate: 1 });
    const stranger = JSON.stringify(postmarkEvent('Delivery', { messageId: '00000000-0000-4000-8000-000000000000', recipient: 'x@y.test' }));
    expect((await post(stranger)).json()).toMatchObject({ unmatched: 1 });
    expect((await post(delivered, 'Basic d3Jvbmc6d3Jvbmc=')).statusCode).toBe(401);
    expect((await post('not json')).statusCode).toBe(400);

    expect(await webhooks(two, 'recorded')).toBe(1);
    expect(await webhooks(two, 'duplicate')).toBe(1);
    expect(await webhooks(two, 'unmatched')).toBe(1);
    expect(await webhooks(two, 'rejected')).toBe(1);
    expect(await webhooks(two, 'refused')).toBe(1);
    // Counted where it was answered: the other runtime saw none of it.
    expect(await webhooks(one, 'recorded')).toBe(0);
  });
});
