/**
 * What the runtime adds around the engine for production: rate-limited, traced adapters, the
 * metrics observer, and (with REDIS_URL) a limiter shared through Redis and wake-ups published
 * to the distributed dispatcher. Kept apart so `runtime.ts` stays a short assembly.
 */
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import { MemoryLimiter, RedisLimiter, rateLimitedAdapters, rateLimitsFromConfig, type Limiter } from './delivery/rateLimited.ts';
import type { DeliveryAdapters } from './delivery/types.ts';
import { keyPrefix } from './engine/bullmq/jobs.ts';
import { connectRedis } from './engine/bullmq/redis.ts';
import { createWakePublisher, type WakePublisher } from './engine/bullmq/wake.ts';
import type { Clock } from './engine/clock.ts';
import type { EngineObserver } from './engine/deps.ts';
import { metricsObserver, watchEngine } from './telemetry/metrics.ts';
import { startTracing, tracedAdapters } from './telemetry/tracing.ts';

export interface RuntimeParts {
  observer: EngineObserver;
  /** Given to createEngine: makes engine.wake() reach the leader in another process. */
  onWake?: () => void;
  adapters(plain: DeliveryAdapters, isMock: boolean): DeliveryAdapters;
  watch(db: Db, clock: Clock, queueCounts?: () => Promise<Record<string, number>>): void;
  close(): Promise<void>;
}

export function runtimeParts(config: Config, logger?: Logger): RuntimeParts {
  void startTracing(config, logger).catch((error: unknown) => logger?.warn({ err: error }, 'OpenTelemetry did not start'));
  const prefixes = keyPrefix(config.REDIS_PREFIX);
  let limiter: Limiter | undefined;
  let wakes: WakePublisher | undefined;
  if (config.REDIS_URL) wakes = createWakePublisher(config.REDIS_URL, prefixes.wakeChannel, logger);
  const unwatch: Array<() => void> = [];
  return {
    observer: metricsObserver,
    onWake: wakes ? () => wakes.publish() : undefined,
    adapters(plain, isMock) {
      if (isMock && !config.RATE_LIMIT_MOCK_DELIVERY) return tracedAdapters(plain);
      // While Redis is away a check fails after a couple of reconnect attempts: the send is
      // then a retryable failure (nothing went out), rescheduled like a provider's 429.
      limiter = config.REDIS_URL ? new RedisLimiter(connectRedis(config.REDIS_URL, { maxRetriesPerRequest: 2 }), prefixes.rateLimit) : new MemoryLimiter();
      return tracedAdapters(rateLimitedAdapters(plain, limiter, rateLimitsFromConfig(config)));
    },
    watch(db, clock, queueCounts) {
      unwatch.push(watchEngine({ db, clock, queueCounts, cacheMs: config.METRICS_CACHE_SECONDS * 1000 }));
    },
    async close() {
      for (const stop of unwatch) stop();
      await Promise.all([limiter?.close(), wakes?.close()]);
    },
  };
}
