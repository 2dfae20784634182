/**
 * The parts every assembly shares (the server with or without its inline worker, and the
 * distributed worker): this runtime's metrics registry, the engine's dependencies from config
 * (adapters, rate-limited and traced, the mock's outbox, senders, the writer), and with
 * REDIS_URL a limiter shared through Redis, wake-ups published to the distributed leader, and
 * this process's counters published for the dashboard's cluster-wide figures.
 */
import { hostname } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { frequencyCapsOf, type Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { findMockSend, recordMockSend } from '../db/mockOutbox.ts';
import { createAdapters } from '../delivery/factory.ts';
import type { SmtpSenderOptions } from '../delivery/email/smtp.ts';
import { probeImap, probeSmtp, type ProbeOptions } from '../delivery/mailboxProbe.ts';
import type { MailboxRouteDeps } from '../api/mailboxes.ts';
import type { ConnectionRouteDeps } from '../api/connections.ts';
import { connectionSecretContext, listConnections } from '../db/connections.ts';
import { ConnectionRouter, type ConnectionCredentials } from '../delivery/connections.ts';
import type { KeyRing } from '../secrets/keyRing.ts';
import { loadKeyRing } from '../secrets/load.ts';
import type { MockDelivery } from '../delivery/mock.ts';
import { MemoryLimiter, rateLimitGate, rateLimitsFromConfig, type Limiter } from '../delivery/rateLimited.ts';
import { RedisLimiter } from '../delivery/redisLimiter.ts';
import { createReplyClassifier, createWriter } from '../delivery/writer/factory.ts';
import { keyPrefix } from '../engine/bullmq/jobs.ts';
import { connectRedis, connectRedisFailFast, quit } from '../engine/bullmq/redis.ts';
import { createWakePublisher, type WakePublisher } from '../engine/bullmq/wake.ts';
import type { Clock } from '../engine/clock.ts';
import type { EngineDeps } from '../engine/deps.ts';
import type { Engine } from '../engine/engine.ts';
import { clusterMetricsText, publishMetrics, readPublished } from '../telemetry/clusterMetrics.ts';
import { createMetrics, type Metrics } from '../telemetry/metrics.ts';
import { startTracing, tracedAdapters } from '../telemetry/tracing.ts';
import { linkSecret, publicBaseUrl, unsubscribeLinks, unsubscribeTokens } from '../webhooks/unsubscribe.ts';
import { trackingLinks, TrackingTokens } from '../webhooks/tracking.ts';
import { LiveBus } from '../engine/liveBus.ts';
import { startLiveRelay, type LiveRelay } from './liveRelay.ts';

/** Whose figures `/metrics` shows: this process's (Prometheus), or every process's (the dashboard). */
export type MetricsScope = 'process' | 'cluster';

/** Test seams: trust a test's CA, answer DNS without the network, hand in a key ring. */
export interface PartsOptions {
  keyRing?: KeyRing;
  smtp?: SmtpSenderOptions;
  probe?: ProbeOptions;
  /** Extra TLS settings of the IMAP watcher (tests trust their self-signed CA). */
  imapTls?: ConnectionOptions;
}

export interface AppParts {
  readonly metrics: Metrics;
  /** This process's live notices: the engine and the API publish, the streams subscribe. */
  readonly live: LiveBus;
  /**
   * On PostgreSQL, passes this process's live notices to the others (and, with `listen`, theirs
   * to its streams): docs/DASHBOARD.md, "Live updates". Nothing on PGlite (one process).
   */
  relayLive(db: Db, options: { listen: boolean }): Promise<void>;
  /** What the mailbox routes need: the key ring, login checks, and closing a changed mailbox's pool. */
  readonly mailboxes: Omit<MailboxRouteDeps, 'db'>;
  /** What the connection routes need: the key ring, and forgetting a workspace's cached connections. */
  readonly connections: Omit<ConnectionRouteDeps, 'db'>;
  /** The key ring stored credentials are sealed under; absent on PostgreSQL without TOUCHPOINT_SECRET_KEY. */
  readonly keyRing?: KeyRing;
  /** Opens a sealed credential (webhook routes of a connection); absent without a key ring. */
  readonly openSecret?: (sealed: string, context: string) => string;
  /** Given to createEngine: makes engine.wake() reach the leader in another process. */
  readonly onWake?: () => void;
  /** The engine's dependencies; `ingest` receives the mock's call outcomes (the engine, once built). */
  engineDeps(args: { db: Db; clock: Clock; ingest: Engine['ingest'] }): { deps: EngineDeps; mock?: MockDelivery };
  /** Makes the store gauges read this store (and queue). */
  watch(db: Db, clock: Clock, queueCounts?: () => Promise<Record<string, number>>): void;
  metricsText(scope: MetricsScope): Promise<{ contentType: string; body: string }>;
  close(): Promise<void>;
}

export function appParts(config: Config, logger?: Logger, options: PartsOptions = {}): AppParts {
  const keyRing = options.keyRing ?? loadKeyRing(config);
  // The engine's mailbox sender, once built: a changed or deleted mailbox's pool is closed.
  let mailboxSender: EngineDeps['adapters']['mailbox'];
  // The engine's connection router, once built (live delivery only): a changed connection is re-read.
  let router: ConnectionRouter | undefined;
  void startTracing(config, logger).catch((error: unknown) => logger?.warn({ err: error }, 'OpenTelemetry did not start'));
  const metrics = createMetrics();
  const prefixes = keyPrefix(config.REDIS_PREFIX);
  const redisUrl = config.REDIS_URL;
  let limiter: Limiter | undefined;
  const wakes: WakePublisher | undefined = redisUrl ? createWakePublisher(redisUrl, prefixes.wakeChannel, logger) : undefined;
  // Fails fast while Redis is away: a dashboard then shows this process's figures, not a hang.
  const metricsRedis = redisUrl ? connectRedisFailFast(redisUrl) : undefined;
  const member = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const published = metricsRedis ? publishMetrics(metricsRedis, { prefix: config.REDIS_PREFIX, member, metrics, logger }) : undefined;
  const unwatch: Array<() => void> = [];
  const live = new LiveBus((error) => logger?.warn({ err: error }, 'a live stream failed to take a notice'));
  let relay: LiveRelay | undefined;

  // The rate limits are a gate the executor asks before a round's intents (docs/ENGINE.md,
  // "Limit-aware claims"): a send that must wait is deferred to its slot, never held in its round.
  // While Redis is away a check fails after a couple of reconnect attempts: the send is then
  // deferred by a second (nothing went out).
  // In one process the limiter keeps the engine's clock, so a deferral lands where the engine
  // (and a test's or the simulator's manual clock) will look for it.
  const sendGate = (isMock: boolean, clock: Clock) => {
    if (isMock && !config.RATE_LIMIT_MOCK_DELIVERY) return undefined;
    limiter = redisUrl
      ? new RedisLimiter(connectRedis(redisUrl, { maxRetriesPerRequest: 2 }), prefixes.rateLimit)
      : new MemoryLimiter(() => clock.now().getTime());
    return rateLimitGate(limiter, rateLimitsFromConfig(config));
  };

  return {
    metrics,
    live,
    async relayLive(db, { listen }) {
      if (db.kind !== 'postgres' || !config.DATABASE_URL || relay) return;
      relay = await startLiveRelay({ db, connectionString: config.DATABASE_URL, bus: live, listen, logger });
    },
    mailboxes: {
      keyRing,
      probes: { smtp: (login) => probeSmtp(login, options.probe), imap: (login) => probeImap(login, options.probe) },
      onChange: (id) => mailboxSender?.close(id),
    },
    keyRing,
    connections: { keyRing, publicUrl: config.PUBLIC_URL, onChange: (workspaceId) => router?.forget(workspaceId) },
    openSecret: keyRing ? (sealed, context) => keyRing.open(sealed, context) : undefined,
    onWake: wakes ? () => wakes.publish() : undefined,
    engineDeps({ db, clock, ingest }) {
      const { adapters: plain, mock } = createAdapters(
        config,
        {
        now: () => clock.now(),
        // The mock's sends land in `mock_outbox`, so tests and demos can count them across processes.
        findSend: (key) => findMockSend(db, key),
        onSend: (send) => recordMockSend(db, send),
        // Mock calls report an outcome the way Telnyx's webhooks would, so the demo timeline has one.
        callOutcome: config.MOCK_CALL_OUTCOME === 'none' ? undefined : config.MOCK_CALL_OUTCOME,
        // Emails to the demo's `+reply` addresses get a simulated answer (docs/DASHBOARD.md, "Demo data").
        replyDelayMs: config.MOCK_REPLY_DELAY_SECONDS * 1000,
        onEvents: async (events) => {
          // A lost demo outcome must not turn a completed mock send into an unknown one.
          for (const event of events) {
            await ingest(event).catch((error: unknown) => logger?.warn({ err: error }, 'mock call outcome or reply not recorded'));
          }
        },
        },
        options.smtp,
      );
      mailboxSender = plain.mailbox;
      // Live sends look at the workspace's own provider account first (docs/PROVIDERS.md); the
      // mocks stay mocks, so the demo never reaches a real provider.
      if (!mock) {
        router = new ConnectionRouter({
          lookup: async (workspaceId) => (await listConnections(db, workspaceId)).map((c) => openConnection(keyRing, c)),
          emailProvider: config.EMAIL_PROVIDER,
          baseUrls: { sendgrid: config.SENDGRID_BASE_URL, postmark: config.POSTMARK_BASE_URL, telnyx: config.TELNYX_BASE_URL },
          publicUrl: config.PUBLIC_URL,
          now: () => clock.now().getTime(),
          cacheMs: config.CONNECTION_CACHE_SECONDS * 1000,
        });
      }
      const deps: EngineDeps = {
        db,
        adapters: tracedAdapters(router ? router.wrap(plain) : plain),
        sendGate: sendGate(Boolean(mock), clock),
        clock,
        leaseMs: config.LEASE_SECONDS * 1000,
        maxConsecutiveFailures: config.MAX_CONSECUTIVE_FAILURES,
        senders: {
          emailFrom: config.EMAIL_FROM,
          emailFromName: config.EMAIL_FROM_NAME,
          smsFrom: config.SMS_FROM_NUMBER,
          voiceFrom: config.VOICE_FROM_NUMBER ?? config.SMS_FROM_NUMBER,
        },
        logger,
        unsubscribeUrl: unsubscribeLinks(publicBaseUrl(config), unsubscribeTokens(config)),
        tracking: trackingLinks(publicBaseUrl(config), new TrackingTokens(linkSecret(config))),
        writer: createWriter(config),
        replyClassifier: createReplyClassifier(config),
        observer: metrics.observer,
        frequencyCaps: frequencyCapsOf(config),
        openSecret: keyRing ? (sealed, context) => keyRing.open(sealed, context) : undefined,
        live,
      };
      return { deps, mock };
    },
    watch(db, clock, queueCounts) {
      unwatch.push(metrics.watch({ db, clock, queueCounts, cacheMs: config.METRICS_CACHE_SECONDS * 1000 }));
    },
    async metricsText(scope) {
      if (scope === 'process' || !metricsRedis) return metrics.text();
      const others = await readPublished(metricsRedis, config.REDIS_PREFIX, { except: member }).catch((error: unknown) => {
        logger?.warn({ err: error }, 'other processes’ metrics could not be read; showing this process only');
        return [];
      });
      return clusterMetricsText(metrics, others);
    },
    async close() {
      for (const stop of unwatch) stop();
      await relay?.close();
      await published?.stop();
      await mailboxSender?.close();
      await Promise.all([limiter?.close(), wakes?.close(), quit(metricsRedis)]);
    },
  };
}

/** A connection row with its credentials opened, or why they cannot be (no key, another key). */
function openConnection(
  keyRing: KeyRing | undefined,
  c: { id: string; provider: ConnectionCredentials['provider']; settings: Record<string, string>; secretSealed: string; updatedAt: Date },
): ConnectionCredentials {
  // Every write seals afresh (a new IV), so the version changes even within one clock tick.
  const version = createHash('sha256').update(`${c.updatedAt.toISOString()}|${c.secretSealed}|${JSON.stringify(c.settings)}`).digest('base64url');
  const base = { id: c.id, provider: c.provider, version, settings: c.settings };
  if (!keyRing) return { ...base, error: 'TOUCHPOINT_SECRET_KEY is not set, so stored credentials cannot be opened.' };
  try {
    return { ...base, secrets: JSON.parse(keyRing.open(c.secretSealed, connectionSecretContext(c.id))) as Record<string, string> };
  } catch (error) {
    return { ...base, error: (error as Error).message };
  }
}
