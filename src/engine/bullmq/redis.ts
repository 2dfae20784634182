/**
 * Redis connections for BullMQ, the rate limiter and wake-ups. Every connection reconnects with
 * capped exponential backoff, so a Redis restart is an outage of that length, not a crash.
 */
import { Redis, type RedisOptions } from 'ioredis';

export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    // BullMQ's blocking commands require it; requests wait for the reconnect instead of failing.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000) + Math.floor(Math.random() * 100),
    lazyConnect: false,
    ...options,
  });
  // Reconnecting is the answer to every connection error; callers see failed commands.
  redis.on('error', () => undefined);
  return redis;
}

/** For callers that must fail fast while Redis is down (enqueueing, rate-limit checks). */
export function connectRedisFailFast(url: string): Redis {
  return connectRedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
}

export async function quit(redis: Redis | undefined): Promise<void> {
  if (!redis) return;
  await redis.quit().catch(() => redis.disconnect());
}
