/**
 * One seeded history: the real engine (createEngine: executor, inline dispatcher logic,
 * decisions, controls, ingest, the engine's SQL) on the shared store, several worker
 * processes and the API process interleaved by the PRNG, faults at every statement boundary,
 * and the invariants watched throughout; then a drain without faults and the final checks.
 */
import { ManualClock } from '../../engine/clock.ts';
import { createEngine, type InlineEngine as Engine } from '../../engine/engine.ts';
import { validateDefinition } from '../../core/validate.ts';
import { insertLeads } from '../../db/leads.ts';
import { createSequence } from '../../db/sequences.ts';
import { changedLiveness, earliestDue, executionStatusesByKey, firstStuckEnrollment } from '../../db/simulation.ts';
import { ensureWorkspace } from '../../db/workspaces.ts';
import type { Envelope } from '../../delivery/types.ts';
import type { InboundEvent } from '../../core/events.ts';
import { finalChecks, Watch, type Violation } from './invariants.ts';
import { Prng } from './prng.ts';
import { NO_FAULTS, SimProvider, type Delivery } from './provider.ts';
import { defaultShape, drawScenario, type Scenario, type Shape } from './scenario.ts';
import { ProcessDied, type Breakage, type SimProcess, type SimStore, type Statement } from './store.ts';
import { World, type WorldState } from './world.ts';

export interface HistoryOptions {
  seed: number;
  quick?: boolean;
  /** Knobs to override (shrinking turns them down); the rest come from the seed. */
  shape?: Partial<Shape>;
  breakage?: Breakage;
}

/** How often, relative to the interleaving rate, a worker stalls past its lease while another takes over. */
const TAKEOVER_SHARE = 0.5;

export interface HistoryStats {
  steps: number;
  /** Stalls past the lease while another worker took over (`maybeTakeOver`). */
  takeovers: number;
  statements: number;
  crashes: number;
  deliveries: number;
  checks: number;
  enrollments: number;
}

export interface HistoryResult {
  seed: number;
  shape: Shape;
  violation?: Violation & { at: string; step: number };
  stats: HistoryStats;
  /** A digest of what the provider delivered and when: equal across replays of one seed. */
  fingerprint: string;
}

interface Worker {
  process: SimProcess;
  engine: Engine;
  incarnation: number;
}

export async function runHistory(store: SimStore, options: HistoryOptions): Promise<HistoryResult> {
  const shape = { ...defaultShape(options.seed, options.quick ?? false), ...options.shape };
  const scenario = drawScenario(options.seed, shape);
  const history = new History(store, options.seed, shape, scenario, options.breakage);
  await store.reset();
  return history.run();
}

class History {
  readonly random: Prng;
  private readonly faults: Prng;
  /** Its own generator, so histories in which no take-over strikes draw exactly as before it existed. */
  private readonly takeovers: Prng;
  private takeoverCount = 0;
  readonly clock: ManualClock;
  readonly provider: SimProvider;
  readonly watch: Watch;
  readonly world: World;
  readonly state: WorldState = { workspaceId: '', sequenceIds: [], leads: [], enrollments: [] };
  private workers: Worker[] = [];
  private apiProcess!: { process: SimProcess; engine: Engine };
  private apiIncarnation = 0;
  private depth = 0;
  private quiet = true;
  private crashes = 0;
  private step = 0;
  private lastAcknowledged = -1;
  private lastStuckCheck = -1;
  private violation?: Violation & { at: string; step: number };
  private readonly statementsBefore: number;
  readonly start: Date;

  constructor(
    private readonly store: SimStore,
    readonly seed: number,
    private readonly shape: Shape,
    private readonly scenario: Scenario,
    private readonly breakage?: Breakage,
  ) {
    this.statementsBefore = store.statements;
    this.random = new Prng(`history:${seed}`);
    this.faults = this.random.fork('faults');
    this.takeovers = this.random.fork('takeovers');
    this.clock = new ManualClock(scenario.start);
    this.start = scenario.start;
    this.provider = new SimProvider(this.random.fork('provider'), this.clock, scenario.faults, {
      beforeSend: (process, envelope) => this.aroundSend(process, envelope, 'before'),
      delivered: (d) => this.watch.delivered(d),
      afterSend: (process, envelope) => this.aroundSend(process, envelope, 'after'),
    });
    this.watch = new Watch((v) => this.report(v));
    const host = this;
    this.world = new World({
      random: this.random.fork('world'),
      state: this.state,
      get deliveries(): readonly Delivery[] {
        return host.provider.deliveries;
      },
      api: () => this.api(),
      now: () => this.clock.now(),
      acknowledged: (event) => this.acknowledged(event),
      violation: (invariant, message) => this.report({ invariant, message }),
      start: scenario.start,
    });
  }

  async run(): Promise<HistoryResult> {
    await this.setUp();
    this.quiet = false;
    for (this.step = 0; this.step < this.shape.steps && !this.violation; this.step++) {
      await this.topLevel();
      this.revive();
      await this.checkNoneStuck();
    }
    if (!this.violation) await this.drain();
    return {
      seed: this.seed,
      shape: this.shape,
      violation: this.violation,
      stats: {
        steps: this.step,
        takeovers: this.takeoverCount,
        statements: this.store.statements - this.statementsBefore,
        crashes: this.crashes,
        deliveries: this.provider.deliveries.length,
        checks: this.watch.checks,
        enrollments: this.state.enrollments.length,
      },
      fingerprint: fingerprint(this.provider.deliveries, this.clock.now()),
    };
  }

  private report(v: Violation): void {
    this.violation ??= { ...v, at: this.clock.now().toISOString(), step: this.step };
  }

  private async setUp(): Promise<void> {
    const db = this.store.db;
    const workspace = await ensureWorkspace(db, `sim-${this.seed}`);
    this.state.workspaceId = workspace.id;
    for (const input of this.scenario.sequences) {
      const checked = validateDefinition(input);
      if (!checked.ok) throw new Error(`scenario drew an invalid sequence: ${JSON.stringify(checked.problems)}`);
      this.state.sequenceIds.push((await createSequence(db, workspace.id, input, 'active')).id);
    }
    const rows = await insertLeads(db, workspace.id, this.scenario.leads);
    for (const row of rows) this.state.leads.push({ id: row.id, email: row.email!, phone: row.phone! });
    for (let i = 0; i < this.shape.workers; i++) this.workers.push(this.newWorker(i, 0));
    this.apiProcess = this.newApi();
    // Each lead in one of the sequences, a few in both.
    for (const [i, sequenceId] of this.state.sequenceIds.entries()) {
      const leadIds = this.state.leads.filter((_, n) => n % this.state.sequenceIds.length === i || this.random.chance(0.15)).map((l) => l.id);
      await this.world.enrollLeads(sequenceId, leadIds);
    }
  }

  private newWorker(index: number, incarnation: number): Worker {
    const process: SimProcess = { name: `w${index}.${incarnation}`, role: 'worker', dead: false };
    return { process, engine: this.engine(process, { batchSize: this.scenario.batchSize }), incarnation };
  }

  private newApi(): { process: SimProcess; engine: Engine } {
    const process: SimProcess = { name: `api.${this.apiIncarnation++}`, role: 'api', dead: false };
    return { process, engine: this.engine(process, {}) };
  }

  private engine(process: SimProcess, options: { batchSize?: number }): Engine {
    const random = this.random.fork(process.name);
    const adapters = this.provider.adaptersFor(process);
    if (this.breakage === 'blind-resend') adapters.ledger = { lookup: async () => ({ kind: 'not_sent' }) };
    return createEngine(
      {
        db: this.store.processDb(process, (s) => this.atStatement(s)),
        adapters,
        clock: this.clock,
        leaseMs: this.scenario.leaseMs,
        senders: { emailFrom: 'sales@sim.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
        random: () => random.next(),
      },
      // The API answers a control at once: the sim's own clock never lets a real wait pass.
      { ...options, inFlightTimeoutMs: 0, analyzeCheckEveryClaims: Number.MAX_SAFE_INTEGER, vacuumEveryClaims: Number.MAX_SAFE_INTEGER },
    );
  }

  api(): Engine {
    if (this.apiProcess.process.dead) this.apiProcess = this.newApi();
    return this.apiProcess.engine;
  }

  /** A crashed worker's replacement starts at once, empty-handed; its leases expire by the clock. */
  private revive(): void {
    this.workers = this.workers.map((w, i) => (w.process.dead ? this.newWorker(i, w.incarnation + 1) : w));
  }

  private kill(process: SimProcess): never {
    process.dead = true;
    this.crashes += 1;
    throw new ProcessDied(process.name);
  }

  /** Every statement of every process passes here: record intents, then maybe a fault. */
  private async atStatement(s: Statement): Promise<void> {
    if (s.phase === 'after' && s.rows && s.sql.includes('engine_write_intents')) {
      for (const row of s.rows as Array<{ id: string }>) this.watch.intents.set(row.id, { stamp: this.store.statements, at: this.clock.now() });
    }
    if (this.quiet) return;
    const f = this.faults;
    if (s.process.role === 'api') {
      if (f.chance(this.shape.crash / 2)) this.kill(s.process);
      return;
    }
    if (f.chance(this.shape.crash)) this.kill(s.process);
    if (!s.inTransaction) {
      await this.maybeTakeOver(s.process);
      await this.maybeIntervene(s.process);
    }
  }

  /**
   * The stall that matters most to the lease fence: `process` stands still past its lease
   * while another worker claims what it held and runs it; then it resumes, and whatever it
   * writes next (an intent, a step end) is written under a lease it no longer holds. Drawn from
   * its own generator, as often as interleaving allows (`TAKEOVER_SHARE` of it).
   */
  private async maybeTakeOver(process: SimProcess): Promise<void> {
    if (this.depth > 0 || this.store.openTransactions > 0 || !this.takeovers.chance(this.shape.interleave * TAKEOVER_SHARE)) return;
    const others = this.workers.filter((w) => w.process !== process && !w.process.dead);
    if (others.length === 0) return;
    this.depth += 1;
    try {
      this.takeoverCount += 1;
      this.clock.advance(this.scenario.leaseMs + this.takeovers.int(1, this.scenario.leaseMs));
      await this.tick(this.takeovers.pick(others));
    } finally {
      this.depth -= 1;
    }
  }

  private async aroundSend(process: SimProcess, _envelope: Envelope, phase: 'before' | 'after'): Promise<void> {
    if (this.quiet) return;
    // Between an intent and its send, and between a send and its outcome: where crashes hurt.
    if (this.faults.chance(this.shape.crash * 8)) this.kill(process);
    if (phase === 'before') await this.maybeIntervene(process);
  }

  /** Something else runs while `process` is between two statements (one connection: not in a transaction). */
  private async maybeIntervene(process: SimProcess): Promise<void> {
    if (this.depth > 0 || this.store.openTransactions > 0 || !this.faults.chance(this.shape.interleave)) return;
    this.depth += 1;
    try {
      const others = this.workers.filter((w) => w.process !== process && !w.process.dead);
      const kind = this.faults.weighted({
        worker: others.length > 0 ? 4 : 0,
        clock: 3,
        operator: this.shape.operators ? 2 : 0,
        webhook: this.shape.webhooks ? 2 : 0,
      });
      if (kind === 'worker') await this.tick(this.faults.pick(others));
      // Long enough, at times, for the stalled process's lease to run out under it.
      else if (kind === 'clock') this.clock.advance(this.faults.int(1, 2 * this.scenario.leaseMs));
      else if (kind === 'operator') await this.apiCall(() => this.world.operator());
      else await this.apiCall(() => this.world.webhook());
    } finally {
      this.depth -= 1;
    }
  }

  private async tick(worker: Worker): Promise<void> {
    try {
      await worker.engine.dispatcher.tick();
    } catch (error) {
      if (!(error instanceof ProcessDied)) throw error;
    }
  }

  /** An API call; if the API process dies mid-way the caller got no answer, so nothing was acknowledged. */
  private async apiCall(call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (!(error instanceof ProcessDied)) throw error;
    }
  }

  private async topLevel(): Promise<void> {
    const r = this.random;
    const kind = r.weighted({
      tick: 45,
      clock: 20,
      operator: this.shape.operators ? 8 : 0,
      webhook: this.shape.webhooks ? 14 : 0,
      edit: this.shape.edits ? 1.5 : 0,
      enroll: 1.5,
    });
    switch (kind) {
      case 'tick':
        return this.tick(r.pick(this.workers));
      case 'clock':
        return this.advanceClock();
      case 'operator':
        return this.apiCall(() => this.world.operator());
      case 'webhook':
        return this.apiCall(() => this.world.webhook());
      case 'edit':
        return this.apiCall(() => this.world.edit());
      case 'enroll':
        return this.apiCall(() => this.world.enroll(r.pick(this.state.sequenceIds), r.int(1, 3)));
    }
  }

  private async advanceClock(): Promise<void> {
    const r = this.random;
    const kind = r.weighted({ seconds: 3, hours: 3, days: 1, nextDue: 4 });
    if (kind === 'seconds') this.clock.advance(r.int(1, 180) * 1000);
    else if (kind === 'hours') this.clock.advance(r.int(10, 720) * 60_000);
    else if (kind === 'days') this.clock.advance(r.int(1, 3) * 86_400_000);
    else {
      const next = await this.earliestDue();
      if (next && next.getTime() > this.clock.now().getTime()) this.clock.set(new Date(next.getTime() + r.int(0, 60_000)));
    }
  }

  private earliestDue(): Promise<Date | null> {
    return earliestDue(this.store.db);
  }

  /** The statuses and suppressions the world was told about, as of now. */
  private async acknowledged(event?: InboundEvent): Promise<void> {
    const stamp = this.store.statements;
    if (event?.suppress && event.address) {
      const key = `${event.address.channel} ${event.address.value}`;
      if (!this.watch.suppressed.has(key)) this.watch.suppressed.set(key, stamp);
    }
    // Nothing ran since the last look: nothing changed (the counter counts every statement).
    if (stamp === this.lastAcknowledged) return;
    this.lastAcknowledged = stamp;
    this.watch.statuses(await changedLiveness(this.store.db, this.watch.stopped()), stamp);
  }

  /** Continuously: a live enrollment always has a next run, unless it waits for an operator's task outcome. */
  private async checkNoneStuck(): Promise<void> {
    this.watch.checks += 1;
    // Unchanged since the last look (no statement ran): the answer is the same.
    if (this.store.statements === this.lastStuckCheck) return;
    this.lastStuckCheck = this.store.statements;
    const stuck = await firstStuckEnrollment(this.store.db);
    if (stuck) this.report({ invariant: 'no-stuck', message: `enrollment ${stuck.id} is ${stuck.status} with no next run` });
  }

  /**
   * The end: faults off, every late webhook arrives, then the clock runs forward until nothing
   * is due; the provider's delivery receipt for each message arrives too (reconciling sends a
   * crash left unknown); then the final checks.
   */
  private async drain(): Promise<void> {
    this.quiet = true;
    this.revive();
    this.provider.faults = { ...NO_FAULTS, ledger: this.scenario.faults.ledger };
    for (const event of this.world.pending.splice(0)) await this.world.ingest(event);
    await this.runDown();
    // The receipt of every delivery the engine has not recorded as succeeded (what
    // `unknown-reconciled` judges), and of a quarter of the rest: late receipts for settled
    // sends, without paying an ingest for each of them.
    const receipts = new Set<string>();
    const statuses = await executionStatusesByKey(this.store.db, this.provider.deliveries.map((d) => d.idempotencyKey));
    for (const d of this.provider.deliveries) {
      if (receipts.has(d.idempotencyKey)) continue;
      receipts.add(d.idempotencyKey);
      if (statuses.get(d.idempotencyKey) === 'succeeded' && !this.random.chance(0.25)) continue;
      await this.world.ingest(this.world.receipt(d, d.channel === 'voice' ? 'call.completed' : d.channel === 'sms' ? 'sms.delivered' : 'email.delivered'));
    }
    await this.runDown();
    this.watch.checks += await finalChecks(this.store.db, this.provider.deliveries, this.state.enrollments.length, (v) => this.report(v));
  }

  /**
   * Workers take turns until one finds nothing due; then the clock moves to the next due time.
   * (Not every worker each round: after one has claimed what is due, the others' claims come
   * back empty, and the drain runs no faults for them to race.)
   */
  private async runDown(): Promise<void> {
    for (let round = 0; round < 1200; round++) {
      const claimed = await this.workers[round % this.workers.length]!.engine.dispatcher.tick();
      if (claimed > 0) continue;
      const next = await this.earliestDue();
      if (!next) return;
      if (next.getTime() > this.clock.now().getTime()) this.clock.set(next);
    }
  }
}

function fingerprint(deliveries: readonly Delivery[], end: Date): string {
  let h = 0;
  const text = deliveries.map((d) => `${d.channel}${d.at.getTime()}${d.process}`).join('|') + end.toISOString();
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return `${deliveries.length}:${(h >>> 0).toString(16)}`;
}
