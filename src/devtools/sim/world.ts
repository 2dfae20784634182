/**
 * The world around the engine in one history: operators acting through the same functions the
 * API calls, providers' webhooks through `engine.ingest` (late, twice, out of order, for ids
 * nobody knows, or by address only), sequence edits through the same db function as
 * `PUT /api/sequences/{id}`, and new leads enrolled meanwhile.
 */
import type { Channel } from '../../core/definition.ts';
import type { EventType } from '../../core/events.ts';
import type { OperatorAction } from '../../core/enrollmentStatus.ts';
import { insertLeads } from '../../db/leads.ts';
import { addSequenceVersion } from '../../db/sequences.ts';
import type { InboundEvent } from '../../core/events.ts';
import type { Delivery } from './provider.ts';
import type { Prng } from './prng.ts';
import { drawLead, drawSequence } from './scenario.ts';

export interface WorldState {
  workspaceId: string;
  sequenceIds: string[];
  leads: Array<{ id: string; email: string; phone: string }>;
  enrollments: Array<{ id: string; leadId: string }>;
}

/** What the world needs of the history: the API process's engine, and what it saw acknowledged. */
export interface WorldHost {
  readonly random: Prng;
  readonly state: WorldState;
  readonly deliveries: readonly Delivery[];
  api(): import('../../engine/engine.ts').InlineEngine;
  now(): Date;
  /** After every acknowledged action: the statuses and suppressions the invariants hold it to. */
  acknowledged(event?: InboundEvent): Promise<void>;
  violation(invariant: string, message: string): void;
  start: Date;
}

const RECEIPTS: Record<Channel, Partial<Record<EventType, number>>> = {
  email: { 'email.delivered': 4, 'email.opened': 3, 'email.clicked': 1, 'email.replied': 1, 'email.bounced': 0.4, 'email.spam_reported': 0.2 },
  sms: { 'sms.delivered': 4, 'sms.replied': 1, 'sms.opted_out': 0.5 },
  voice: { 'call.answered': 2, 'call.voicemail': 2, 'call.no_answer': 1, 'call.completed': 2 },
};
const SUPPRESSING = new Set<EventType>(['email.bounced', 'email.spam_reported', 'email.unsubscribed', 'sms.opted_out']);
const OUTCOMES = ['done', 'connected', 'meeting_booked', 'skipped'];

export class World {
  /** Webhooks the provider has sent that have not arrived yet (they arrive in any order). */
  readonly pending: InboundEvent[] = [];
  readonly ingested: InboundEvent[] = [];
  private events = 0;
  private edits = 0;
  /**
   * Lead numbers handed out so far. Not `state.leads.length`: an insert can commit and its
   * process die before the answer is seen, and reusing its numbers would draw the same emails
   * again (seed 31, non-quick: a duplicate key that ended the history).
   */
  private leadsDrawn?: number;

  constructor(private readonly host: WorldHost) {}

  async operator(): Promise<void> {
    const { random: r, state } = this.host;
    if (state.enrollments.length === 0) return;
    const enrollment = r.pick(state.enrollments);
    const kind = r.weighted({ pause: 3, resume: 3, skip: 1, cancel: 1, convert: 0.5, retry: 1, outcome: 2, convertLead: 0.4 });
    const api = this.host.api();
    if (kind === 'outcome') {
      await api.recordOutcome({ enrollmentId: enrollment.id, outcome: r.pick(OUTCOMES), actor: 'sim-operator' });
    } else if (kind === 'convertLead') {
      await api.convertLead({ leadId: enrollment.leadId, workspaceId: state.workspaceId, actor: 'sim-operator' });
    } else {
      await api.act({ enrollmentId: enrollment.id, action: kind as OperatorAction, actor: 'sim-operator' });
    }
    await this.host.acknowledged();
  }

  async webhook(): Promise<void> {
    const { random: r, deliveries } = this.host;
    const kind = r.weighted({ receipt: deliveries.length > 0 ? 5 : 0, late: this.pending.length > 0 ? 3 : 0, twice: this.ingested.length > 0 ? 1 : 0, stranger: 0.4, byAddress: 1 });
    if (kind === 'receipt') {
      const event = this.receipt(r.pick(deliveries));
      // Some arrive now; others later, in whatever order (a provider's retries, its queues).
      if (r.chance(0.4)) this.pending.push(event);
      else await this.ingest(event);
    } else if (kind === 'late') {
      const [event] = this.pending.splice(r.int(0, this.pending.length - 1), 1);
      await this.ingest(event!);
    } else if (kind === 'twice') {
      await this.ingest(r.pick(this.ingested));
    } else if (kind === 'stranger') {
      const answer = await this.host.api().ingest({
        type: r.pick(['email.opened', 'sms.delivered', 'call.answered'] as const),
        providerEventId: `sim-stranger-${this.events++}`,
        provider: 'sendgrid',
        occurredAt: this.host.now(),
        providerMessageId: `sim-nothing-${r.int(0, 1e9)}`,
        executionId: fakeUuid(r),
        data: {},
      });
      if (answer.status !== 'unmatched') this.host.violation('stranger-event', `an event for ids nobody issued was ${answer.status}, not unmatched`);
    } else {
      const lead = r.pick(this.host.state.leads);
      const type = r.pick(['email.replied', 'sms.replied', 'sms.opted_out', 'email.unsubscribed'] as const);
      const channel: Channel = type.startsWith('email') ? 'email' : 'sms';
      await this.ingest({
        type,
        providerEventId: `sim-ev-${this.events++}`,
        provider: channel === 'email' ? 'sendgrid' : 'telnyx',
        occurredAt: this.host.now(),
        address: { channel, value: channel === 'email' ? lead.email : lead.phone },
        suppress: SUPPRESSING.has(type),
        data: { sim: true },
      });
    }
  }

  /** The provider's report about one delivery, naming it by our execution id or its message id. */
  receipt(delivery: Delivery, type?: EventType): InboundEvent {
    const r = this.host.random;
    const chosen = type ?? r.weighted(RECEIPTS[delivery.channel] as Record<EventType, number>);
    const span = Math.max(0, this.host.now().getTime() - delivery.at.getTime());
    return {
      type: chosen,
      providerEventId: `sim-ev-${this.events++}`,
      provider: delivery.channel === 'email' ? 'sendgrid' : 'telnyx',
      occurredAt: new Date(delivery.at.getTime() + Math.floor(r.next() * span)),
      providerMessageId: delivery.providerMessageId,
      ...(type || r.chance(0.7) ? { executionId: delivery.executionId } : {}),
      ...(SUPPRESSING.has(chosen) ? { suppress: true, address: { channel: delivery.channel, value: delivery.to } } : {}),
      data: { sim: true },
    };
  }

  async ingest(event: InboundEvent): Promise<void> {
    await this.host.api().ingest(event);
    this.ingested.push(event);
    await this.host.acknowledged(event);
  }

  /** A new version of a sequence (running enrollments stay on theirs), then new leads on it. */
  async edit(): Promise<void> {
    const { random: r, state } = this.host;
    const sequenceId = r.pick(state.sequenceIds);
    const db = this.host.api().deps.db;
    await addSequenceVersion(db, state.workspaceId, sequenceId, drawSequence(r, `edit${this.edits++}`, this.host.start));
    await this.enroll(sequenceId, r.int(1, 3));
  }

  async enroll(sequenceId: string, count: number): Promise<void> {
    const { random: r, state } = this.host;
    const db = this.host.api().deps.db;
    const first = this.leadsDrawn ?? state.leads.length;
    this.leadsDrawn = first + count;
    const fresh = Array.from({ length: count }, (_, i) => drawLead(r, first + i));
    const rows = await insertLeads(db, state.workspaceId, fresh);
    for (const row of rows) state.leads.push({ id: row.id, email: row.email!, phone: row.phone! });
    await this.enrollLeads(sequenceId, rows.map((row) => row.id));
  }

  async enrollLeads(sequenceId: string, leadIds: string[]): Promise<void> {
    const { state } = this.host;
    const result = await this.host.api().enroll({ workspaceId: state.workspaceId, sequenceId, leadIds, actor: 'sim' });
    if (result.ok) for (const e of result.enrolled) state.enrollments.push({ id: e.enrollmentId, leadId: e.leadId });
    await this.host.acknowledged();
  }
}

function fakeUuid(r: Prng): string {
  const hex = Array.from({ length: 32 }, () => '0123456789abcdef'[r.int(0, 15)]).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}
