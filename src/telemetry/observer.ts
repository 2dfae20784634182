/**
 * The port the engine reports its figures through. It lives in telemetry, below the engine: the
 * engine calls it, the metrics module implements it, and neither reaches up into the other.
 */
/** Figures the engine reports; `createMetrics` (metrics.ts) turns them into Prometheus metrics. */
export interface EngineObserver {
  delivery?(channel: string, adapter: string, outcome: 'sent' | 'failed' | 'retry' | 'aborted' | 'deferred'): void;
  stepExecuted?(type: string, status: string, seconds: number): void;
  schedulerLag?(seconds: number): void;
  /** An enrollment reached the cap of consecutive failed attempts and is now `failed`. */
  enrollmentFailed?(reason: 'step_error'): void;
  /** The distributed dispatcher enqueued this many claims as jobs. */
  dispatched?(count: number): void;
  /** This process became (true) or stopped being (false) the dispatcher leader. */
  leadership?(leader: boolean): void;
  /** A worker started (`delta` > 0) or finished (< 0) running this many jobs. */
  jobsRunning?(delta: number): void;
  /** An outbound webhook attempt was recorded: what became of it, and how long the post took. */
  webhookDelivery?(result: WebhookDeliveryResult, seconds: number): void;
  /** An outbound webhook endpoint was turned off by the deliverer (410 Gone, or a day of failures). */
  webhookEndpointDisabled?(reason: 'gone' | 'failing'): void;
}

/**
 * One attempt of an outbound webhook delivery: `delivered` (2xx), `retry` (failed, tried again
 * later), `failed` (given up: retries or window exhausted), `gone` (the receiver answered 410:
 * failed, and its endpoint disabled).
 */
export type WebhookDeliveryResult = 'delivered' | 'retry' | 'failed' | 'gone';
