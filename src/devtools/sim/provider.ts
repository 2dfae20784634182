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
  /**
   * The request timed out before the provider took it: nothing delivered, but the adapter
   * cannot know that — it answers as a live one does, "may have been sent" (`mayHaveSent`).
   */
  timeout: number;
  /** Delivered, then the connection dropped: the adapter throws (the engine cannot know). */
  lostAnswer: number;
  /**
   * Delivered, then the answer timed out: the adapter answers "may have been sent", as a live
   * one does when the provider took the message but answered after the deadline
   * (src/delivery/http.ts; docs/SIMULATION.md, Findings 2).
   */
  ambiguousTimeout: number;
  /** The provider can answer "did you get this key?" after a crash (SendLedger). */
  ledger: boolean;
}

export const NO_FAULTS: ProviderFaults = { retryable: 0, permanent: 0, timeout: 0, lostAnswer: 0, ambiguousTimeout: 0, ledger: true };

/** What a live adapter answers when its request timed out after it was made (src/delivery/http.ts). */
const MAY_HAVE_SENT: DeliveryResult = { kind: 'failed', retryable: true, code: 'timeout', message: 'simulated: no answer within the deadline', mayHaveSent: true };

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

/**
 * A call under way: its process stands still (an injected stall) between starting it and the
 * provider's taking it. If its deadline passes meanwhile, the live adapter aborts it there, so
 * it either reached the provider before the deadline or never does — decided once, by the PRNG,
 * when the ledger is asked about it or the call resumes, whichever comes first.
 */
interface PendingCall {
  process: SimProcess;
  channel: Channel;
  message: Envelope & { to: string };
  startedAt: Date;
  fate?: 'delivered' | 'never';
}

export class SimProvider {
  readonly deliveries: Delivery[] = [];
  private readonly byKey = new Map<string, Delivery>();
  private readonly pending = new Set<PendingCall>();
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
    // A call past its deadline has met its fate by now; one before it may still deliver later,
    // and the ledger honestly does not know that yet.
    for (const call of this.pending) if (call.message.idempotencyKey === key && this.pastDeadline(call)) this.settle(call);
    const found = this.byKey.get(key);
    return found ? { kind: 'sent', providerMessageId: found.providerMessageId } : { kind: 'not_sent' };
  }

  private async send(process: SimProcess, channel: Channel, message: Envelope & { to: string }): Promise<DeliveryResult> {
    const call: PendingCall = { process, channel, message, startedAt: this.clock.now() };
    this.pending.add(call);
    try {
      await this.hooks.beforeSend(process, message);
    } catch (error) {
      this.pending.delete(call); // the process died before the request left it: nothing sent
      throw error;
    }
    this.pending.delete(call);
    if (this.pastDeadline(call) || call.fate) {
      // The adapter aborted the call at its deadline while the process stood still.
      if (process.dead) throw new ProcessDied(process.name);
      this.calls += 1;
      // Taken before the deadline or never: either way the adapter saw only its abort, and says
      // what a live one says — no answer, the request may have been taken.
      this.settle(call);
      return MAY_HAVE_SENT;
    }
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
    if (answer === 'timeout') return MAY_HAVE_SENT; // nothing taken, but the adapter cannot know that
    const delivery = this.deliver(process, channel, message, this.clock.now());
    await this.hooks.afterSend(process, message);
    if (process.dead) throw new ProcessDied(process.name);
    if (answer === 'lost') throw new Error('simulated connection reset after the provider took the message');
    if (answer === 'ambiguous') return MAY_HAVE_SENT;
    return { kind: 'sent', providerMessageId: delivery.providerMessageId };
  }

  private pastDeadline(call: PendingCall): boolean {
    const { deadline } = call.message;
    return deadline !== undefined && this.clock.now().getTime() > deadline.getTime();
  }

  /** A call aborted at its deadline: delivered before it (dated when it started) or never, once. */
  private settle(call: PendingCall): 'delivered' | 'never' {
    if (call.fate) return call.fate;
    call.fate = this.random.chance(0.5) ? 'delivered' : 'never';
    if (call.fate === 'delivered') this.deliver(call.process, call.channel, call.message, call.startedAt);
    return call.fate;
  }

  private deliver(process: SimProcess, channel: Channel, message: Envelope & { to: string }, at: Date): Delivery {
    const delivery: Delivery = {
      seq: this.deliveries.length,
      idempotencyKey: message.idempotencyKey,
      executionId: message.executionId,
      enrollmentId: message.enrollmentId,
      channel,
      to: message.to,
      providerMessageId: `sim-${channel}-${this.deliveries.length + 1}`,
      at,
      process: process.name,
    };
    this.deliveries.push(delivery);
    if (!this.byKey.has(delivery.idempotencyKey)) this.byKey.set(delivery.idempotencyKey, delivery);
    this.hooks.delivered(delivery);
    return delivery;
  }
}
