/**
 * Touchpoint on the embedded default (PGlite) with the LIVE adapters pointed at the fake
 * providers, listening on 127.0.0.1:0 so the fakes post real, signed webhooks to it. The clock
 * is manual; webhooks are stamped and signed with its time so the 300 s window holds.
 */
import { validateDefinition } from '../../src/core/validate.ts';
import { parseConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/db.ts';
import { insertLeads, type NewLead } from '../../src/db/leads.ts';
import { openMemoryDatabase } from '../../src/db/memoryStore.ts';
import { createSequence } from '../../src/db/sequences.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import type { PartsOptions } from '../../src/app/parts.ts';
import { type FakeProviders, startFakeProviders } from '../../src/devtools/fakes/index.ts';
import type { TelnyxEvent } from '../../src/devtools/fakes/telnyxEvents.ts';

export interface LiveKit {
  fakes: FakeProviders;
  clock: ManualClock;
  db: Db;
  runtime: Runtime;
  /** `http://127.0.0.1:PORT` of the running app. */
  url: string;
  workspaceId: string;
  /** Unix seconds on the manual clock: what webhook signatures must carry. */
  seconds(): number;
  addLead(lead: NewLead): Promise<string>;
  addSequence(definition: unknown): Promise<string>;
  enroll(sequenceId: string, leadId: string): Promise<string>;
  drain(): Promise<number>;
  enrollment(id: string): Promise<{ status: string; statusReason: string | null; currentStepId: string | null }>;
  /** Step ids this enrollment has executions for, with their status, in order. */
  steps(enrollmentId: string): Promise<Array<{ stepId: string; status: string; metadata: Record<string, unknown>; rendered: Record<string, unknown> | null }>>;
  events(leadId: string): Promise<Array<{ type: string; provider: string }>>;
  /** A Telnyx event stamped with the manual clock. */
  stamp(event: TelnyxEvent): TelnyxEvent;
  close(): Promise<void>;
}

/** `db`: run on this store instead of a fresh in-memory one (the caller closes it). */
export async function startLiveKit(options: { start?: string; env?: Record<string, string>; db?: Db; parts?: PartsOptions } = {}): Promise<LiveKit> {
  const fakes = await startFakeProviders();
  // Half past a second: providers stamp events in whole seconds, earlier than our own sends.
  const clock = new ManualClock(options.start ?? '2026-03-04T15:00:00.500Z'); // a Wednesday, 10:00 in New York
  // A database handed in stays the caller's to close.
  const db = options.db ?? (await openMemoryDatabase());
  const config = parseConfig({
    USE_MOCK_SEQUENCE_DELIVERY: 'false',
    PUBLIC_URL: 'https://touchpoint.test',
    UNSUBSCRIBE_SECRET: 'test-unsubscribe-secret-of-32-bytes+',
    EMAIL_FROM: 'sales@us.test',
    SMS_FROM_NUMBER: '+15550001111',
    EMAIL_PROVIDER: 'sendgrid',
    SENDGRID_API_KEY: fakes.sendgrid.apiKey,
    SENDGRID_BASE_URL: fakes.sendgrid.baseUrl,
    SENDGRID_WEBHOOK_PUBLIC_KEY: fakes.sendgrid.publicKeyBase64,
    SENDGRID_INBOUND_PUBLIC_KEY: fakes.sendgrid.publicKeyBase64,
    POSTMARK_SERVER_TOKEN: fakes.postmark.serverToken,
    POSTMARK_BASE_URL: fakes.postmark.baseUrl,
    POSTMARK_WEBHOOK_USER: fakes.postmark.webhookAuth.username,
    POSTMARK_WEBHOOK_PASSWORD: fakes.postmark.webhookAuth.password,
    TELNYX_API_KEY: fakes.telnyx.apiKey,
    TELNYX_BASE_URL: fakes.telnyx.baseUrl,
    TELNYX_PUBLIC_KEY: fakes.telnyx.publicKeyBase64,
    TELNYX_CONNECTION_ID: 'conn_live',
    AI_WRITER_API_KEY: fakes.writer.apiKey,
    AI_WRITER_BASE_URL: `${fakes.writer.baseUrl}/v1`,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const runtime = await createRuntime(config, { db, clock, worker: false, parts: options.parts });
  const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const workspace = await ensureWorkspace(db, 'live');

  return {
    fakes,
    clock,
    db,
    runtime,
    url,
    workspaceId: workspace.id,
    seconds: () => Math.floor(clock.now().getTime() / 1000),
    addLead: async (lead) => (await insertLeads(db, workspace.id, [{ timezone: 'America/New_York', ...lead }]))[0]!.id,
    addSequence: async (definition) => {
      const result = validateDefinition(definition);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      return (await createSequence(db, workspace.id, result.definition, 'active')).id;
    },
    enroll: async (sequenceId, leadId) => {
      const result = await runtime.engine.enroll({ workspaceId: workspace.id, sequenceId, leadIds: [leadId], actor: 'test' });
      if (!result.ok || result.enrolled.length !== 1) throw new Error(JSON.stringify(result));
      return result.enrolled[0]!.enrollmentId;
    },
    drain: () => runtime.engine.dispatcher.drain(),
    enrollment: async (id) => {
      const [row] = await db.query<{ status: string; statusReason: string | null; currentStepId: string | null }>(
        `select status, status_reason as "statusReason", current_step_id as "currentStepId" from enrollments where id = $1`,
        [id],
      );
      return row!;
    },
    steps: (enrollmentId) =>
      db.query(
        `select step_id as "stepId", status, metadata, rendered from sequence_executions where enrollment_id = $1 order by started_at, visit`,
        [enrollmentId],
      ),
    events: (leadId) =>
      db.query(`select type, provider from events where lead_id = $1 order by received_at, occurred_at, type`, [leadId]),
    stamp: (event) => ({ data: { ...event.data, occurred_at: clock.now().toISOString() } }),
    close: async () => {
      await runtime.close();
      if (!options.db) await db.close();
      await fakes.close();
    },
  };
}

/** Every day, all day, no quiet hours: tests about webhooks, not windows. */
export const OPEN = {
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
} as const;
