/**
 * Wake-ups across processes: the API (enroll, outcome, event) and workers (a finished job may
 * leave work due at once) publish on a Redis channel; the leader's dispatcher listens. A lost
 * wake-up costs at most the dispatcher's idle bound, never work.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { connectRedis, quit } from './redis.ts';

export interface WakePublisher {
  /** Coalesced: the calls within `coalesceMs` (or one tick) become one message. */
  publish(): void;
  close(): Promise<void>;
}

export function createWakePublisher(redisUrl: string, channel: string, logger?: Logger, coalesceMs = 0): WakePublisher {
  let redis: Redis | undefined;
  let pending = false;
  return {
    publish() {
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        redis ??= connectRedis(redisUrl);
        redis.publish(channel, '1').catch((error: unknown) => logger?.debug({ err: error }, 'wake-up not published'));
      }, coalesceMs);
    },
    close: () => quit(redis),
  };
}

export async function subscribeWakeUps(redisUrl: string, channel: string, onWake: () => void): Promise<() => Promise<void>> {
  // A subscribed connection can do nothing else; ioredis re-subscribes after a reconnect.
  const redis = connectRedis(redisUrl);
  redis.on('message', (from: string) => {
    if (from === channel) onWake();
  });
  await redis.subscribe(channel);
  return () => quit(redis);
}
