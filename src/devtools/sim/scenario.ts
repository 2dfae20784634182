/**
 * What one history is made of, drawn from its seed: the start instant (near a DST change in
 * the leads' zones), the leads, the sequences, how many workers, and how often each fault
 * strikes. `Shape` holds the knobs shrinking turns down; everything else follows from the seed.
 */
import type { SequenceDefinitionInput } from '../../core/definition.ts';
import { validateDefinition } from '../../core/validate.ts';
import type { NewLead } from '../../db/leads.ts';
import type { ProviderFaults } from './provider.ts';
import { Prng } from './prng.ts';

export interface Shape {
  leads: number;
  sequences: number;
  workers: number;
  /** Top-level scheduler steps before the final drain. */
  steps: number;
  /** Chance a worker dies at one statement boundary (higher around a send). */
  crash: number;
  /** Chance something else runs first at one statement boundary of a worker. */
  interleave: number;
  /** Multiplies the adapters' fault rates (0: every send succeeds). */
  faults: number;
  operators: boolean;
  webhooks: boolean;
  edits: boolean;
}

export const SHAPE_KEYS = ['leads', 'sequences', 'workers', 'steps', 'crash', 'interleave', 'faults', 'operators', 'webhooks', 'edits'] as const;

/** Zones with DST changes on different dates (and one without, one at +12:45). */
export const ZONES = ['America/New_York', 'America/Los_Angeles', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham'];

/** Instants just before a DST change in one of the zones above. */
const STARTS = ['2026-03-06T12:00:00Z', '2026-03-27T20:00:00Z', '2026-04-03T10:00:00Z', '2026-10-02T10:00:00Z', '2026-10-23T18:00:00Z', '2026-10-30T15:00:00Z', '2026-09-25T09:00:00Z'];

export function defaultShape(seed: number, quick: boolean): Shape {
  const r = new Prng(`shape:${seed}`);
  return {
    // A full history: 12–16 leads (14–25 enrollments), 40–60 scheduler steps, then the drain
    // (docs/SIMULATION.md, "What a history is"; sized so 10,000 fit the 15 minutes).
    leads: quick ? r.int(4, 8) : r.int(12, 16),
    sequences: r.int(1, 2),
    workers: r.int(2, 3),
    steps: quick ? r.int(25, 45) : r.int(40, 60),
    crash: r.pick([0.002, 0.005, 0.01]),
    interleave: r.pick([0.02, 0.05, 0.1]),
    faults: r.pick([0.5, 1, 2]),
    operators: true,
    webhooks: true,
    edits: r.chance(0.5),
  };
}

export interface Scenario {
  start: Date;
  leaseMs: number;
  batchSize: number;
  leads: NewLead[];
  sequences: SequenceDefinitionInput[];
  faults: ProviderFaults;
}

export function drawScenario(seed: number, shape: Shape): Scenario {
  const r = new Prng(`scenario:${seed}`);
  const start = new Date(new Date(r.pick(STARTS)).getTime() + r.int(-48, 48) * 3_600_000);
  const leads: NewLead[] = [];
  for (let i = 0; i < shape.leads; i++) leads.push(drawLead(r, i));
  const sequences: SequenceDefinitionInput[] = [];
  for (let i = 0; i < shape.sequences; i++) sequences.push(drawSequence(r, `seq${i}`, start));
  const f = shape.faults;
  return {
    start,
    leaseMs: r.pick([30_000, 60_000, 120_000]),
    // One enrollment per claim to a large batch: a single draw, as before, so later draws stay put.
    batchSize: r.pick([1, 2, 4, 8, 16]),
    leads,
    sequences,
    faults: {
      retryable: 0.08 * f,
      permanent: 0.03 * f,
      timeout: 0.04 * f,
      lostAnswer: 0.03 * f,
      ambiguousTimeout: 0.03 * f,
      ledger: r.chance(0.6),
    },
  };
}

export function drawLead(r: Prng, n: number): NewLead {
  return {
    email: `lead${n}@sim.test`,
    phone: `+1555${String(1_000_000 + n).slice(-7)}`,
    firstName: `Lee${n}`,
    timezone: r.chance(0.9) ? r.pick(ZONES) : null,
  };
}

/** A forward-only sequence (no loops), so each delivery step is visited once per enrollment. */
export function drawSequence(r: Prng, name: string, start: Date): SequenceDefinitionInput {
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = candidateSequence(r, name, start);
    if (validateDefinition(candidate).ok) return candidate;
  }
  return { name, steps: [{ id: 'hello', type: 'email', subject: 'Hi', body: 'Hi {{ lead.firstName }}' }] };
}

function candidateSequence(r: Prng, name: string, start: Date): SequenceDefinitionInput {
  const count = r.int(3, 7);
  const ids = Array.from({ length: count }, (_, i) => `s${i}`);
  const steps: Array<Record<string, unknown>> = [];
  let lastEmail: string | undefined;
  ids.forEach((id, i) => {
    const remaining = count - i - 1;
    const kind = r.weighted({ email: 4, sms: 2, voice: 1, wait: 3, branch: remaining >= 2 && lastEmail ? 2 : 0, task: 0.5 });
    switch (kind) {
      case 'email':
        lastEmail = id;
        steps.push({ id, type: 'email', subject: `Hi {{ lead.firstName }} (${id})`, body: 'Hello {{ lead.firstName }}.' });
        break;
      case 'sms':
        steps.push({ id, type: 'sms', text: `Hi {{ lead.firstName }} ${id}` });
        break;
      case 'voice':
        steps.push({ id, type: 'voice', script: 'Hi {{ lead.firstName }}', voicemail: 'Call us back' });
        break;
      case 'wait':
        steps.push({ id, type: 'wait', duration: r.pick(['PT10M', 'PT1H', 'PT6H', 'P1D', 'P2D']), businessDays: r.chance(0.3) });
        break;
      case 'branch':
        steps.push({
          id,
          type: 'branch',
          when: r.chance(0.7) ? { event: r.pick(['email.opened', 'email.clicked']), step: lastEmail } : { outcome: ['connected'] },
          within: r.pick(['PT4H', 'P1D']),
          then: ids[i + 1],
          else: ids[i + 2],
        });
        break;
      case 'task':
        steps.push({ id, type: 'task', title: 'Call {{ lead.firstName }}' });
        break;
    }
  });
  const holiday = new Date(start.getTime() + r.int(0, 10) * 86_400_000).toISOString().slice(0, 10);
  return {
    name,
    schedule: r.pick([
      {},
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', holidays: r.chance(0.5) ? [holiday] : [] },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
      { start: '01:30', end: '03:30' }, // the hours a DST change skips or repeats
    ]),
    quietHours: r.pick([{}, { start: '20:00', end: '09:00', channels: ['sms', 'voice'] }, { start: '00:00', end: '00:00', channels: [] }]),
    ...(r.chance(0.3) ? { exitOn: r.pick([['email.replied', 'converted'], ['email.replied', 'sms.replied', 'sms.opted_out', 'email.bounced', 'converted']]) } : {}),
    onError: r.pick(['continue', 'exit']),
    onUnknownDelivery: r.pick(['continue', 'pause']),
    maxAttempts: r.int(1, 4),
    steps: steps as SequenceDefinitionInput['steps'],
  };
}
