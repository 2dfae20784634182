/**
 * The webhook deliverer: a loop (engine/loop.ts, the one behind the step dispatchers) that
 * claims due deliveries under a lease, posts each signed (signing.ts) to its checked address
 * (post.ts), and records the verdict (policy.ts) fenced by that lease. It runs beside the step
 * executor, never inside it: a slow receiver holds up deliveries, never a step. Every process
 * that runs steps runs one (the embedded server, each `touchpoint worker`); they share the work
 * through the database, so one killed mid-post leaves its claims due again when the lease ends.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LiveSink } from '../core/live.ts';
import type { Db } from '../db/db.ts';
import {
  claimDueDeliveries,
  nextDeliveryDue,
  recordAttempt,
  releaseDeliveryLeases,
  storeCompletedPayloads,
  taskRenderContexts,
  type ClaimedDelivery,
} from '../db/webhookDeliveries.ts';
import { disableEndpoint, endpointSecretContext, isSealedSecret, recordEndpointHealth, type EndpointSecrets } from '../db/webhookEndpoints.ts';
import type { Clock } from '../engine/clock.ts';
import { again, pauseUntil, WakeableLoop } from '../engine/loop.ts';
import type { EngineObserver } from '../telemetry/observer.ts';
import { judgeAttempt } from './policy.ts';
import { postWebhook, type PostOptions, type PostResult } from './post.ts';
import { signedHeaders } from './signing.ts';
import { completeTaskPayload, needsTaskTitle } from './taskPayloads.ts';

export interface DelivererSettings {
  /** How long a receiver has to answer. */
  timeoutMs: number;
  allowPrivate: boolean;
  /** Deliveries posted at once per round. */
  batchSize: number;
  /** Longest sleep between looks at the outbox (new rows wake nobody: the triggers write them). */
  pollMs: number;
  /** How long after an event its delivery is retried. */
  retryWindowMs: number;
  /** An endpoint failing this long without a success is disabled (`failing`). */
  disableAfterMs: number;
}

export interface DelivererDeps {
  db: Db;
  clock: Clock;
  logger?: Logger;
  settings: DelivererSettings;
  random?: () => number;
  post?: (options: PostOptions) => Promise<PostResult>;
  /** Opens sealed signing secrets (the key ring); a plain `whsec_…` kept from before is used as it is. */
  openSecret?: (sealed: string, context: string) => string;
  /** Counts each recorded attempt and each endpoint it disables (Prometheus, docs/OPERATIONS.md). */
  observer?: EngineObserver;
  /** Told of each round's recorded attempts (the dashboard's webhook log, docs/DASHBOARD.md "Live updates"). */
  live?: LiveSink;
}

export class WebhookDeliverer {
  private readonly loop: WakeableLoop;
  private readonly held = new Set<string>();
  private readonly random: () => number;
  private readonly post: (options: PostOptions) => Promise<PostResult>;

  constructor(private readonly deps: DelivererDeps) {
    this.random = deps.random ?? Math.random;
    this.post = deps.post ?? postWebhook;
    this.loop = new WakeableLoop({
      clock: deps.clock,
      maxIdleMs: deps.settings.pollMs,
      round: async () => {
        const done = await this.deliverDue();
        if (done === this.deps.settings.batchSize) return again;
        return pauseUntil(await nextDeliveryDue(this.deps.db));
      },
      onError: (error, attempt) => {
        deps.logger?.warn({ err: error }, 'webhook delivery round failed');
        return Math.min(30_000, 250 * 2 ** attempt);
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Delivers until nothing is due (tests and the simulator drive it on a manual clock). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.deliverDue();
      total += done;
      if (done === 0) return total;
    }
  }

  /** Gives back the claims of posts still running (a shutdown past its deadline). */
  releaseHeld(): Promise<number> {
    return releaseDeliveryLeases(this.deps.db, [...this.held], this.deps.clock.now());
  }

  /** One round: claim what is due, post it all at once, record each verdict. */
  async deliverDue(): Promise<number> {
    const { db, clock, settings } = this.deps;
    const now = clock.now();
    const leaseId = randomUUID();
    const claimed = await claimDueDeliveries(db, {
      now,
      leaseId,
      leaseUntil: new Date(now.getTime() + settings.timeoutMs * 2 + 10_000),
      limit: settings.batchSize,
    });
    if (claimed.length === 0) return 0;
    this.held.add(leaseId);
    try {
      await this.completePayloads(claimed, leaseId);
      const recorded = await Promise.all(claimed.map((delivery) => this.deliverOne(delivery)));
      // One call per round, after the commits: each endpoint whose log moved.
      this.deps.live?.publish(
        claimed.filter((_, i) => recorded[i]).map((d) => ({ kind: 'webhook' as const, workspaceId: d.workspaceId, endpointId: d.endpointId })),
      );
    } finally {
      this.held.delete(leaseId);
    }
    return claimed.length;
  }

  /** Renders the tasks' titles of `task.created` payloads (taskPayloads.ts): one read and one write per round that has any. */
  private async completePayloads(claimed: ClaimedDelivery[], leaseId: string): Promise<void> {
    const open = claimed.filter((d) => needsTaskTitle(d.eventType, d.payload));
    if (open.length === 0) return;
    const contexts = new Map((await taskRenderContexts(this.deps.db, open.map((d) => d.id))).map((c) => [c.id, c]));
    for (const delivery of open) {
      delivery.payload = completeTaskPayload(delivery.payload, contexts.get(delivery.id) ?? { definition: null, lead: null });
    }
    await storeCompletedPayloads(this.deps.db, leaseId, open.map((d) => ({ id: d.id, payload: d.payload })));
  }

  /** The endpoint's signing secrets in the clear, opened from the key ring when sealed. */
  private secretsOf(delivery: ClaimedDelivery): EndpointSecrets | { error: string } {
    const context = endpointSecretContext(delivery.endpointId);
    const open = (value: string) => {
      if (!isSealedSecret(value)) return value;
      if (!this.deps.openSecret) throw new Error('TOUCHPOINT_SECRET_KEY is not set');
      return this.deps.openSecret(value, context);
    };
    try {
      return {
        secret: open(delivery.secret),
        previousSecret: delivery.previousSecret === null ? null : open(delivery.previousSecret),
        previousSecretExpiresAt: delivery.previousSecretExpiresAt,
      };
    } catch (error) {
      return { error: `The endpoint's signing secret cannot be opened (${(error as Error).message}); not sent.` };
    }
  }

  /** Posts one delivery and records its verdict; answers whether it was recorded (the lease held). */
  private async deliverOne(delivery: ClaimedDelivery): Promise<boolean> {
    const { db, clock, settings, logger, observer } = this.deps;
    const body = JSON.stringify(delivery.payload);
    const secrets = this.secretsOf(delivery);
    // A secret that does not open (a lost key) is a failed attempt that says so; nothing is posted unsigned.
    const result: PostResult =
      'error' in secrets
        ? { kind: 'unreachable', error: secrets.error, refused: false, latencyMs: 0 }
        : await this.post({
            url: delivery.url,
            headers: signedHeaders(secrets, delivery.messageId, clock.now(), body),
            body,
            timeoutMs: settings.timeoutMs,
            allowPrivate: settings.allowPrivate,
          });
    const now = clock.now();
    const verdict = judgeAttempt({
      result,
      attempts: delivery.attempts,
      createdAt: delivery.createdAt,
      now,
      retryWindowMs: settings.retryWindowMs,
      random: this.random(),
    });
    const disabled = await db.transaction(async (tx): Promise<'gone' | 'failing' | undefined | false> => {
      const recorded = await recordAttempt(tx, {
        id: delivery.id,
        leaseId: delivery.leaseId,
        status: verdict.status,
        nextAttemptAt: verdict.status === 'pending' ? verdict.nextAttemptAt : null,
        statusCode: result.kind === 'answered' ? result.status : null,
        response: result.kind === 'answered' ? result.body : null,
        error: result.kind === 'unreachable' ? result.error : null,
        latencyMs: result.latencyMs,
        now,
      });
      // Lost the lease (the post outlived it and another deliverer took over): its outcome stands.
      if (!recorded) return false;
      const health = await recordEndpointHealth(tx, delivery.endpointId, verdict.status === 'delivered', now);
      if (verdict.status === 'failed' && verdict.disableEndpoint) {
        await disableEndpoint(tx, delivery.endpointId, verdict.disableEndpoint, now);
        logger?.warn({ endpointId: delivery.endpointId }, 'webhook endpoint answered 410 Gone; disabled');
        return 'gone';
      } else if (health.failingSince && now.getTime() - health.failingSince.getTime() >= settings.disableAfterMs) {
        await disableEndpoint(tx, delivery.endpointId, 'failing', now);
        logger?.warn({ endpointId: delivery.endpointId }, 'webhook endpoint failing for a day; disabled');
        return 'failing';
      }
      return undefined;
    });
    // Counted once committed, and only when recorded: a post whose lease was lost is another's to count.
    if (disabled === false) return false;
    const counted = verdict.status === 'pending' ? 'retry' : disabled === 'gone' ? 'gone' : verdict.status;
    observer?.webhookDelivery?.(counted, result.latencyMs / 1000);
    if (disabled) observer?.webhookEndpointDisabled?.(disabled);
    return true;
  }
}
