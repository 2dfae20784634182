/**
 * The parts every assembly shares (the server with or without its inline worker, and the
 * distributed worker): this runtime's metrics registry, the engine's dependencies from config
 * (adapters, rate-limited and traced, the mock's outbox, senders, the writer), and with
 * REDIS_URL a limiter shared through Redis, wake-ups published to the distributed leader, and
 * this process's counters published for the dashboard's cluster-wide figures.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { frequencyCapsOf, type Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { findMockSend, recordMockSend } from '../db/mockOutbox.ts';
import { createAdapters } from '../delivery/factory.ts';
import type { SmtpSenderOptions } from '../delivery/email/smtp.ts';
import { probeImap, probeSmtp, type ProbeOptions } from '../delivery/mailboxProbe.ts';
import type { MailboxRouteDeps } from '../api/mailboxes.ts';
import type { KeyRing } from '../secrets/keyRing.ts';
import { loadKeyRing } from '../secrets/load.ts';
import type { MockDelivery } from '../delivery/mock.ts';
import { MemoryLimiter, RedisLimiter, rateLimitGate, rateLimitsFromConfig, type Limiter } from '../delivery/rateLimited.ts';
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

/** Whose figures `/metrics` shows: this process's (Prometheus), or every process's (the dashboard). */
export type MetricsScope = 'process' | 'cluster';

/** Test seams: trust a test's CA, answer DNS without the network, hand in a key ring. */
export interface PartsOptions {
  keyRing?: KeyRing;
  smtp?: SmtpSenderOptions;
  probe?: ProbeOptions;
}

export interface AppParts {
  readonly metrics: Metrics;
  /** What the mailbox routes need: the key ring, login checks, and closing a changed mailbox's pool. */
  readonly mailboxes: Omit<MailboxRouteDeps, 'db'>;
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

  // The rate limits are a gate the executor asks before a round's intents (docs/ENGINE.md,
  // "Limit-aware claims"): a send that must wait is deferred to its slot, never held in its round.
  // While Redis is away a check fails after a couple of reconnect attempts: the send is then
  // deferred by a second (nothing went out).
  const sendGate = (isMock: boolean) => {
    if (isMock && !config.RATE_LIMIT_MOCK_DELIVERY) return undefined;
    limiter = redisUrl ? new RedisLimiter(connectRedis(redisUrl, { maxRetriesPerRequest: 2 }), prefixes.rateLimit) : new MemoryLimiter();
    return rateLimitGate(limiter, rateLimitsFromConfig(config));
  };

  return {
    metrics,
    mailboxes: {
      keyRing,
      probes: { smtp: (login) => probeSmtp(login, options.probe), imap: (login) => probeImap(login, options.probe) },
      onChange: (id) => mailboxSender?.close(id),
    },
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
        onEvents: async (events) => {
          // A lost demo outcome must not turn a completed mock send into an unknown one.
          for (const event of events) {
            await ingest(event).catch((error: unknown) => logger?.warn({ err: error }, 'mock call outcome not recorded'));
          }
        },
        },
        options.smtp,
      );
      mailboxSender = plain.mailbox;
      const deps: EngineDeps = {
        db,
        adapters: tracedAdapters(plain),
        sendGate: sendGate(Boolean(mock)),
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
      await published?.stop();
      await mailboxSender?.close();
      await Promise.all([limiter?.close(), wakes?.close(), quit(metricsRedis)]);
    },
  };
}
