/**
 * The simulated providers: one adapter per channel that answers success, retryable failure,
 * permanent failure, timeout (nothing taken) or "sent, but the answer was lost" by seeded
 * probabilities, and the provider's ledger of what it really delivered — the ground truth the
 * invariants hold the engine's own records against. Like SendGrid and Postmark, it does not
 * deduplicate by idempotency key: a second send of one visit is a second message.
 */
import type { Channel } from '../../core/definition.ts';
import type { DeliveryAdapters, DeliveryResult, Envelope, SendLookup } from '../../delivery/types.ts';
import type { Clock } from '../../engine/clock.ts';
import type { Prng } from './prng.ts';
import { ProcessDied, type SimProcess } from './store.ts';

export interface ProviderFaults {
  retryable: number;
  permanent: number;
  /** The request timed out before the provider took it: retryable, nothing delivered. */
  timeout: number;
  /** Delivered, then the connection dropped: the adapter throws (the engine cannot know). */
  lostAnswer: number;
  /**
   * Delivered, then answered as a retryable timeout — what a live adapter reports when the
   * provider took the message but answered after the deadline (src/delivery/http.ts). Off by
   * default: see docs/SIMULATION.md, "Findings".
   */
  ambiguousTimeout: number;
  /** The provider can answer "did you get this key?" after a crash (SendLedger). */
  ledger: boolean;
}

export const NO_FAULTS: ProviderFaults = { retryable: 0, permanent: 0, timeout: 0, lostAnswer: 0, ambiguousTimeout: 0, ledger: true };

export interface Delivery {
  seq: number;
  idempotencyKey: string;
  executionId: string;
  enrollmentId: string;
  channel: Channel;
  to: string;
  providerMessageId: string;
  at: Date;
  process: string;
}

/** What happens around one adapter call: interventions before it, and after the provider took it. */
export interface SendHooks {
  beforeSend(process: SimProcess, envelope: Envelope): Promise<void>;
  delivered(delivery: Delivery): void;
  afterSend(process: SimProcess, envelope: Envelope): Promise<void>;
}

export class SimProvider {
  readonly deliveries: Delivery[] = [];
  private readonly byKey = new Map<string, Delivery>();
  calls = 0;

  constructor(
    private readonly random: Prng,
    private readonly clock: Clock,
    public faults: ProviderFaults,
    private readonly hooks: SendHooks,
  ) {}

  /** The adapters one simulated process holds; a dead process sends nothing. */
  adaptersFor(process: SimProcess): DeliveryAdapters {
    const send = (channel: Channel) => (message: Envelope & { to: string }) => this.send(process, channel, message);
    return {
      email: { adapter: 'sim', send: send('email') },
      sms: { adapter: 'sim', send: send('sms') },
      voice: { adapter: 'sim', dial: send('voice') },
      ...(this.faults.ledger ? { ledger: { lookup: (key: string) => this.lookup(process, key) } } : {}),
    };
  }

  private async lookup(process: SimProcess, key: string): Promise<SendLookup> {
    if (process.dead) throw new ProcessDied(process.name);
    const found = this.byKey.get(key);
    return found ? { kind: 'sent', providerMessageId: found.providerMessageId } : { kind: 'not_sent' };
  }

  private async send(process: SimProcess, channel: Channel, message: Envelope & { to: string }): Promise<DeliveryResult> {
    await this.hooks.beforeSend(process, message);
    if (process.dead) throw new ProcessDied(process.name);
    this.calls += 1;
    const f = this.faults;
    const answer = this.random.weighted({
      ok: Math.max(0, 1 - f.retryable - f.permanent - f.timeout - f.lostAnswer - f.ambiguousTimeout),
      retryable: f.retryable,
      permanent: f.permanent,
      timeout: f.timeout,
      lost: f.lostAnswer,
      ambiguous: f.ambiguousTimeout,
    });
    if (answer === 'retryable') return { kind: 'failed', retryable: true, code: '503', message: 'simulated outage', retryAfterMs: this.random.chance(0.3) ? this.random.int(1, 120) * 1000 : undefined };
    if (answer === 'permanent') return { kind: 'failed', retryable: false, code: '400', message: 'simulated permanent refusal' };
    if (answer === 'timeout') return { kind: 'failed', retryable: true, code: 'timeout', message: 'simulated timeout, nothing taken' };
    const delivery: Delivery = {
      seq: this.deliveries.length,
      idempotencyKey: message.idempotencyKey,
      executionId: message.executionId,
      enrollmentId: message.enrollmentId,
      channel,
      to: message.to,
      providerMessageId: `sim-${channel}-${this.deliveries.length + 1}`,
      at: this.clock.now(),
      process: process.name,
    };
    this.deliveries.push(delivery);
    if (!this.byKey.has(delivery.idempotencyKey)) this.byKey.set(delivery.idempotencyKey, delivery);
    this.hooks.delivered(delivery);
    await this.hooks.afterSend(process, message);
    if (process.dead) throw new ProcessDied(process.name);
    if (answer === 'lost') throw new Error('simulated connection reset after the provider took the message');
    if (answer === 'ambiguous') return { kind: 'failed', retryable: true, code: 'timeout', message: 'simulated timeout after delivery' };
    return { kind: 'sent', providerMessageId: delivery.providerMessageId };
  }
}
