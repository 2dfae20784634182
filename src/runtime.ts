/**
 * Assembles a running Touchpoint from config: the store, the adapters, the engine, the HTTP
 * app. `serve` and the tests use the same assembly.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.ts';
import { frequencyCapsOf, type Config } from './config.ts';
import type { Db } from './db/db.ts';
import { openDatabase } from './db/open.ts';
import { createAdapters } from './delivery/factory.ts';
import type { MockDelivery } from './delivery/mock.ts';
import { systemClock, type Clock } from './engine/clock.ts';
import { createEngine, type Engine } from './engine/engine.ts';
import { routePlugins } from './routes.ts';
import { runtimeParts } from './runtimeParts.ts';
import { createWriter } from './delivery/writer/factory.ts';
import { publicBaseUrl, unsubscribeLinks, unsubscribeTokens } from './webhooks/unsubscribe.ts';

export interface Runtime {
  config: Config;
  db: Db;
  engine: Engine;
  app: FastifyInstance;
  mock?: MockDelivery;
  close(): Promise<void>;
  /** Gives back the leases of steps this process is still running (a shutdown past its deadline). */
  releaseLeases(): Promise<number>;
}

export async function createRuntime(
  config: Config,
  options: { logger?: Logger; clock?: Clock; worker?: boolean; db?: Db } = {},
): Promise<Runtime> {
  const clock = options.clock ?? systemClock;
  const db =
    options.db ??
    (await openDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      onError: (error) => options.logger?.warn({ err: error }, 'database connection lost; reconnecting'),
    }));
  const parts = runtimeParts(config, options.logger);
  const { adapters: plainAdapters, mock } = createAdapters(config, {
    now: () => clock.now(),
    // The mock's sends land in `mock_outbox`, so tests and demos can count them across processes.
    findSend: async (key) => {
      const [row] = await db.query<{ providerMessageId: string }>(
        'select provider_message_id as "providerMessageId" from mock_outbox where idempotency_key = $1 limit 1',
        [key],
      );
      return row;
    },
    onSend: async (send) => {
      await db.query(
        `insert into mock_outbox (channel, idempotency_key, execution_id, recipient, provider_message_id, payload, sent_at)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [send.channel, send.idempotencyKey, send.executionId, send.recipient, send.providerMessageId, JSON.stringify(send.payload), send.at],
      );
    },
    // Mock calls report an outcome the way Telnyx's webhooks would, so the demo timeline has one.
    callOutcome: config.MOCK_CALL_OUTCOME === 'none' ? undefined : config.MOCK_CALL_OUTCOME,
    onEvents: async (events) => {
      // A lost demo outcome must not turn a completed mock send into an unknown one.
      for (const event of events) {
        await engine.ingest(event).catch((error: unknown) => options.logger?.warn({ err: error }, 'mock call outcome not recorded'));
      }
    },
  });
  const engine = createEngine({
    db,
    adapters: parts.adapters(plainAdapters, Boolean(mock)),
    clock,
    leaseMs: config.LEASE_SECONDS * 1000,
    maxConsecutiveFailures: config.MAX_CONSECUTIVE_FAILURES,
    senders: {
      emailFrom: config.EMAIL_FROM,
      emailFromName: config.EMAIL_FROM_NAME,
      smsFrom: config.SMS_FROM_NUMBER,
      voiceFrom: config.VOICE_FROM_NUMBER ?? config.SMS_FROM_NUMBER,
    },
    logger: options.logger,
    unsubscribeUrl: unsubscribeLinks(publicBaseUrl(config), unsubscribeTokens(config)),
    writer: createWriter(config),
    observer: parts.observer,
    frequencyCaps: frequencyCapsOf(config),
  }, { onWake: parts.onWake });
  parts.watch(db, clock);
  const app = await buildApp({ db, engine, logger: options.logger, trustProxy: config.TRUST_PROXY, plugins: routePlugins({ config, db, engine, logger: options.logger }) });
  if (options.worker ?? true) engine.dispatcher.start();
  return {
    config,
    db,
    engine,
    app,
    mock,
    close: async () => {
      // Claiming stops at once, while the HTTP side lets its in-flight requests finish.
      await Promise.all([app.close(), engine.dispatcher.stop()]);
      await parts.close();
      if (!options.db) await db.close();
    },
    releaseLeases: () => engine.dispatcher.releaseHeld(),
  };
}
