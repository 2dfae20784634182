/**
 * Figures across processes, for the dashboard's Monitoring page in distributed mode: sends
 * happen on the workers, so the API process's own counters stay near zero. Each worker writes
 * its own counters and histograms (a snapshot, `Metrics.snapshot()`) into one Redis hash every
 * PUBLISH_EVERY_MS; the API adds up the fresh ones with its own (prom-client's cluster
 * aggregation: counters and histograms summed, store gauges taken once). Prometheus keeps
 * scraping each process's own `/metrics`, so nothing is counted twice there.
 */
import { AggregatorRegistry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics, MetricsSnapshot } from './metrics.ts';

/** How often a worker publishes its snapshot. */
export const PUBLISH_EVERY_MS = 2_000;
/** A snapshot older than this belongs to a process that stopped; it is dropped. */
export const STALE_AFTER_MS = 15_000;

interface Published {
  at: number;
  metrics: MetricsSnapshot;
}

export function clusterMetricsKey(prefix: string): string {
  return `${prefix}:metrics`;
}

/**
 * Publishes this process's snapshot under `member` now and every `everyMs`; the returned
 * function stops and removes it (a process that stops cleanly leaves no figures behind; one
 * that dies is dropped once its snapshot is stale). A counter of a process that went away
 * leaves the sum, so the page's totals can step down; its rates recover at the next reading.
 */
export function publishMetrics(
  redis: Redis,
  options: { prefix: string; member: string; metrics: Metrics; everyMs?: number; logger?: Logger },
): { publish(): Promise<void>; stop(): Promise<void> } {
  const key = clusterMetricsKey(options.prefix);
  const publish = async () => {
    const published: Published = { at: Date.now(), metrics: await options.metrics.snapshot() };
    await redis.hset(key, options.member, JSON.stringify(published));
  };
  const publishQuietly = () => publish().catch((error: unknown) => options.logger?.debug({ err: error }, 'metrics snapshot not published'));
  void publishQuietly();
  const timer = setInterval(publishQuietly, options.everyMs ?? PUBLISH_EVERY_MS);
  timer.unref();
  return {
    publish,
    stop: async () => {
      clearInterval(timer);
      await redis.hdel(key, options.member).catch(() => undefined);
    },
  };
}

/** Snapshots processes other than `except` published lately (stale ones are removed on the way). */
export async function readPublished(redis: Redis, prefix: string, options: { except?: string; now?: number } = {}): Promise<MetricsSnapshot[]> {
  const now = options.now ?? Date.now();
  const key = clusterMetricsKey(prefix);
  const entries = await redis.hgetall(key);
  const fresh: MetricsSnapshot[] = [];
  const stale: string[] = [];
  for (const [member, text] of Object.entries(entries)) {
    if (member === options.except) continue;
    const published = parse(text);
    if (published && now - published.at < STALE_AFTER_MS) fresh.push(published.metrics);
    else stale.push(member);
  }
  if (stale.length) await redis.hdel(key, ...stale).catch(() => undefined);
  return fresh;
}

/** This process's metrics plus every worker's fresh snapshot, in the Prometheus text format. */
export async function clusterMetricsText(
  metrics: Metrics,
  published: MetricsSnapshot[],
): Promise<{ contentType: string; body: string }> {
  const own = await metrics.registry.getMetricsAsJSON();
  const aggregated = AggregatorRegistry.aggregate([own, ...published] as Parameters<typeof AggregatorRegistry.aggregate>[0]);
  return { contentType: aggregated.contentType, body: await aggregated.metrics() };
}

function parse(text: string): Published | undefined {
  try {
    const value = JSON.parse(text) as Published;
    return typeof value?.at === 'number' && Array.isArray(value.metrics) ? value : undefined;
  } catch {
    return undefined;
  }
}
