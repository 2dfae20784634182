/**
 * The promises, each with a name and a message that says what broke (docs/SIMULATION.md).
 * `Watch` checks every delivery as the provider takes it, against what the history saw
 * acknowledged; `finalChecks` runs once a history has drained, against the store and the ledger.
 */
import { sequenceDefinitionSchema, isDeliveryStep, type SequenceDefinition } from '../../core/definition.ts';
import { resolveZone } from '../../core/time.ts';
import { isInsideWindow, nextOpening } from '../../core/windows.ts';
import type { Queryable } from '../../db/db.ts';
import { deliveryExecutions, enrollmentsAtEnd, unheldUnknownDeliveries } from '../../db/simulation.ts';
import type { Delivery } from './provider.ts';

export interface Violation {
  invariant: string;
  message: string;
}

/** How long a send may trail the decision that made it (the longest stall the scheduler injects mid-step). */
export const IN_FLIGHT_ALLOWANCE_MS = 5 * 60_000;

export class Watch {
  checks = 0;
  /** Execution id → when (scheduler stamp, clock) its intent was last committed. */
  readonly intents = new Map<string, { stamp: number; at: Date }>();
  /** Enrollment id → spans of stamps it was stopped (paused or finished), end open while it lasts. */
  readonly stops = new Map<string, Array<{ from: number; to: number; status: string }>>();
  /** `channel address` → stamp its suppression was acknowledged. */
  readonly suppressed = new Map<string, number>();
  private readonly keys = new Map<string, Delivery>();
  private readonly steps = new Map<string, Delivery>();

  constructor(private readonly report: (v: Violation) => void) {}

  /** The enrollments seen stopped now (an open span). */
  stopped(): string[] {
    const out: string[] = [];
    for (const [id, spans] of this.stops) if (spans.some((s) => s.to === Infinity)) out.push(id);
    return out;
  }

  /** The enrollments whose liveness changed, after an acknowledged action (`changedLiveness`). */
  statuses(rows: Array<{ id: string; status: string }>, stamp: number): void {
    for (const { id, status } of rows) {
      const spans = this.stops.get(id) ?? [];
      const open = spans.find((s) => s.to === Infinity);
      const live = status === 'active' || status === 'waiting';
      if (live && open) open.to = stamp;
      if (!live && !open) spans.push({ from: stamp, to: Infinity, status });
      this.stops.set(id, spans);
    }
  }

  delivered(d: Delivery): void {
    this.checks += 5;
    const stepId = d.idempotencyKey.split(':')[1]!;
    const intent = this.intents.get(d.executionId);
    if (!intent) {
      this.report({ invariant: 'intent-before-send', message: `${d.channel} to ${d.to} (${d.idempotencyKey}) reached the provider with no committed intent` });
      return;
    }
    const twice = this.keys.get(d.idempotencyKey);
    if (twice) this.report({ invariant: 'once-per-visit', message: `${d.idempotencyKey} delivered twice: ${twice.providerMessageId} at ${twice.at.toISOString()} (${twice.process}) and ${d.providerMessageId} at ${d.at.toISOString()} (${d.process})` });
    this.keys.set(d.idempotencyKey, d);
    // The generated sequences never loop, so a delivery step reaches a lead once per enrollment.
    const step = `${d.enrollmentId}:${stepId}`;
    const again = this.steps.get(step);
    if (again && !twice) this.report({ invariant: 'once-per-step', message: `step ${stepId} of enrollment ${d.enrollmentId} delivered on two visits: ${again.idempotencyKey} and ${d.idempotencyKey}` });
    this.steps.set(step, d);
    for (const span of this.stops.get(d.enrollmentId) ?? []) {
      if (span.from < intent.stamp && intent.stamp < span.to) {
        this.report({ invariant: 'after-stop', message: `${d.idempotencyKey}: intent committed after the enrollment was acknowledged ${span.status}` });
      }
    }
    const suppressedAt = this.suppressed.get(`${d.channel} ${d.to}`);
    if (suppressedAt !== undefined && suppressedAt < intent.stamp) {
      this.report({ invariant: 'after-suppression', message: `${d.idempotencyKey}: ${d.channel} to ${d.to} after its suppression was acknowledged` });
    }
  }
}

export async function finalChecks(
  db: Queryable,
  deliveries: readonly Delivery[],
  enrolled: number,
  report: (v: Violation) => void,
): Promise<number> {
  let checks = 0;
  const enrollments = await enrollmentsAtEnd(db);
  if (enrollments.length !== enrolled) report({ invariant: 'none-lost', message: `${enrolled} enrollments acknowledged, ${enrollments.length} in the store` });
  for (const e of enrollments) {
    checks += 1;
    const held = e.status === 'paused' || (e.status === 'waiting' && e.waitingFor === 'task');
    if ((e.status === 'active' || e.status === 'waiting') && !held) {
      report({ invariant: 'settled', message: `enrollment ${e.id} still ${e.status} (due ${e.next?.toISOString() ?? 'never'}) after the drain` });
    }
  }
  const rows = await deliveryExecutions(db);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const firstDelivery = new Map<string, Delivery>();
  for (const d of deliveries) if (!firstDelivery.has(d.idempotencyKey)) firstDelivery.set(d.idempotencyKey, d);
  const definitions = new Map<unknown, SequenceDefinition>();
  for (const d of deliveries) {
    checks += 2;
    const x = byKey.get(d.idempotencyKey);
    if (!x) {
      report({ invariant: 'timeline-ledger', message: `${d.idempotencyKey} was delivered (${d.providerMessageId}) but has no execution row` });
      continue;
    }
    const live = x.enrollmentStatus === 'active' || x.enrollmentStatus === 'waiting';
    if (x.status === 'unknown') report({ invariant: 'unknown-reconciled', message: `${d.idempotencyKey} stays unknown though the provider reported its delivery` });
    else if (x.status !== 'succeeded' && !(x.status === 'started' && !live)) {
      report({ invariant: 'timeline-ledger', message: `${d.idempotencyKey} was delivered but its execution says ${x.status}` });
    }
    let definition = definitions.get(x.definition);
    if (!definition) definitions.set(x.definition, (definition = sequenceDefinitionSchema.parse(x.definition)));
    const step = definition.steps.find((s) => s.id === x.stepId);
    if (!step || !isDeliveryStep(step)) continue;
    const opts = { zone: resolveZone(x.leadZone, definition.schedule, x.workspaceZone), schedule: definition.schedule, quietHours: definition.quietHours, channel: step.type };
    const inside = isInsideWindow(d.at, opts);
    // A send may trail its decision by a stall; the decision itself must have been inside.
    const trailing = !inside && d.at.getTime() - x.startedAt.getTime() <= IN_FLIGHT_ALLOWANCE_MS && isInsideWindow(x.startedAt, opts);
    if (!inside && !trailing) {
      const opening = nextOpening(d.at, opts).toISOString();
      report({ invariant: 'window', message: `${d.idempotencyKey} (${step.type}) delivered at ${d.at.toISOString()}, outside its window or quiet hours in ${opts.zone} (next opening ${opening})` });
    }
  }
  for (const x of rows) {
    checks += 1;
    if (x.status !== 'succeeded') continue;
    const d = firstDelivery.get(x.key);
    if (!d) report({ invariant: 'timeline-ledger', message: `${x.key} says succeeded but the provider never delivered it` });
    else if (x.providerMessageId !== d.providerMessageId) report({ invariant: 'timeline-ledger', message: `${x.key} names message ${x.providerMessageId}, the provider delivered ${d.providerMessageId}` });
  }
  const held = await unheldUnknownDeliveries(db);
  checks += 1;
  for (const { key, status, reason } of held) {
    const message =
      reason === 'unknown_delivery'
        ? `${key} is unknown and its enrollment (${status}) says unknown_delivery, but no hold was recorded: a step end wrote its reason over the one its status was given`
        : `${key} is unknown, its sequence says pause, and no one held it for an operator (its enrollment is ${status})`;
    report({ invariant: 'unknown-held', message });
  }
  return checks;
}
