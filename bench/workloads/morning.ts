/**
 * H. Morning in three zones (issue 21): N enrollments, a third each in New York, London and
 * Tokyo, all due at one instant of a simulated Sunday evening (22:00 UTC: 07:00 Monday in
 * Tokyo, 22:00 Sunday in London, 17:00 Sunday in New York) on a sequence whose window is
 * Monday–Friday 09:00–17:00 local. The engine's first visit finds each outside its window and
 * defers it to 09:00 Monday in the lead's zone (its own window arithmetic, not the harness's);
 * then the simulated clock jumps to each zone's 09:00 in turn and the zone's third drains
 * (3 steps each). Measured: each zone's drain time (its 09:00 to its last step) against its
 * steps ÷ A's rate, and the sends stamped outside their lead's window (must be none).
 *
 * The clock: real time plus an offset moved in jumps (`JumpClock`), so a drain's steps carry
 * real durations. A frozen `ManualClock` would stamp every step of a zone at the same instant
 * (nothing to measure from the rows), and it keeps the dispatcher's timers of its own; here the
 * dispatcher sleeps on real timers and is woken after each jump, as an enroll would wake it.
 */
import type { Db } from '../../src/db/db.ts';
import type { Clock } from '../../src/engine/clock.ts';
import { sleep } from '../lib/stats.ts';
import { benchEngine, createFixture, enrollSql, STEPS_PER_ENROLLMENT, type Fixture } from '../lib/fixture.ts';

/** Real time, moved forward in jumps: what a simulated day needs to skip its idle hours. */
export class JumpClock implements Clock {
  private offsetMs: number;

  constructor(start: Date) {
    this.offsetMs = start.getTime() - Date.now();
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  jumpTo(at: Date): void {
    const target = at.getTime() - Date.now();
    if (target < this.offsetMs) throw new Error('JumpClock: a simulated clock only moves forward');
    this.offsetMs = target;
  }
}

const MORNING = {
  name: 'Bench: morning',
  schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
  quietHours: { start: '00:00', end: '00:00', channels: [] },
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName }}', body: 'Hello {{ lead.firstName }}' },
    { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName }}' },
    { id: 'call', type: 'voice', script: 'Hello {{ lead.firstName }}' },
  ],
};

/** The zones in the order their 09:00 comes, with that instant (Monday 2026-12-07, no DST in effect). */
export const ZONES = [
  { name: 'Tokyo', timezone: 'Asia/Tokyo', opensAt: new Date('2026-12-07T00:00:00Z') },
  { name: 'London', timezone: 'Europe/London', opensAt: new Date('2026-12-07T09:00:00Z') },
  { name: 'New York', timezone: 'America/New_York', opensAt: new Date('2026-12-07T14:00:00Z') },
] as const;

/** Sunday 22:00 UTC: outside every zone's window. */
const DUE_AT = new Date('2026-12-06T22:00:00Z');
const DAY_ENDS = new Date('2026-12-08T00:00:00Z');
/** The clock lands this long before each 09:00, so the drain is timed from the instant itself. */
const LAND_BEFORE_MS = 200;

export interface ZoneDrain {
  zone: string;
  enrollments: number;
  /** From the zone's 09:00 to its last step. */
  drainSeconds: number;
  stepsPerSecond: number;
}

export interface MorningRun {
  /** Wall seconds for the first visits that deferred every enrollment to its zone's 09:00. */
  deferSeconds: number;
  zones: ZoneDrain[];
  /** Sends stamped outside their lead's Monday–Friday 09:00–17:00 (must be 0). */
  outsideWindow: number;
  /** Steps run before their zone's 09:00 (must be 0). */
  early: number;
}

export async function morningRun(db: Db, args: { enrollments: number; timeoutMs: number; log?: (message: string) => void }): Promise<MorningRun> {
  const log = args.log ?? (() => {});
  const fixture = await createFixture(db, 'morning', MORNING);
  const perZone = Math.floor(args.enrollments / ZONES.length);
  const seeded = await seedLeadsAndEnrollments(db, fixture, perZone);
  const leadIn = 300 + Math.ceil(args.enrollments / 4);
  const clock = new JumpClock(new Date(DUE_AT.getTime() - leadIn - 60_000));
  log(`  H: ${seeded.toLocaleString('en-US')} leads and enrollments seeded`);
  const { engine } = benchEngine(db, { batchSize: 100, clock, maxIdleMs: 1000 });
  engine.dispatcher.start();
  const deadline = Date.now() + args.timeoutMs;
  try {
    // Sunday 22:00: every first visit finds its window closed and defers to the zone's 09:00.
    const deferStarted = performance.now();
    clock.jumpTo(DUE_AT);
    engine.wake();
    // Done when no live enrollment is due (or leased) before the first 09:00: each was visited and deferred.
    await untilNoneDueBefore(db, fixture.workspaceId, ZONES[0].opensAt, deadline);
    const deferSeconds = (performance.now() - deferStarted) / 1000;
    log(`  H: first visits deferred every enrollment to its 09:00 in ${deferSeconds.toFixed(1)} s`);
    const zones: ZoneDrain[] = [];
    for (const [z, zone] of ZONES.entries()) {
      clock.jumpTo(new Date(zone.opensAt.getTime() - LAND_BEFORE_MS));
      engine.wake();
      // The zone is done when nothing live is due before the next zone's 09:00 (its own steps
      // follow one another at once; the other zones wait for their 09:00, hours later).
      await untilNoneDueBefore(db, fixture.workspaceId, ZONES[z + 1]?.opensAt ?? DAY_ENDS, deadline);
      const [left] = await db.query<{ n: number }>(
        `select count(*)::int as n from enrollments e join leads l on l.id = e.lead_id where l.timezone = $1 and e.status <> 'completed'`,
        [zone.timezone],
      );
      if (left!.n !== 0) throw new Error(`morning run: ${left!.n} enrollments in ${zone.name} not completed`);
      const [last] = await db.query<{ at: Date }>(
        `select max(coalesce(x.completed_at, x.started_at)) as at from sequence_executions x
         join leads l on l.id = x.lead_id where l.timezone = $1`,
        [zone.timezone],
      );
      const drainSeconds = (last!.at.getTime() - zone.opensAt.getTime()) / 1000;
      zones.push({ zone: zone.name, enrollments: perZone, drainSeconds, stepsPerSecond: (perZone * STEPS_PER_ENROLLMENT) / drainSeconds });
      log(`  H: ${zone.name} drained in ${drainSeconds.toFixed(1)} s`);
    }
    // The rest of the simulated day: nothing is left to run.
    clock.jumpTo(DAY_ENDS);
    engine.wake();
    const [check] = await db.query<{ outside: number; early: number; steps: number }>(
      `select count(*) filter (where extract(isodow from x.started_at at time zone l.timezone) > 5
                                 or (x.started_at at time zone l.timezone)::time not between time '09:00' and time '17:00')::int as outside,
              count(*) filter (where x.started_at < case l.timezone ${ZONES.map((z) => `when '${z.timezone}' then timestamptz '${z.opensAt.toISOString()}'`).join(' ')} end)::int as early,
              count(*)::int as steps
       from sequence_executions x join leads l on l.id = x.lead_id`,
    );
    const expected = perZone * ZONES.length * STEPS_PER_ENROLLMENT;
    if (check!.steps !== expected) throw new Error(`morning run: ${check!.steps} of ${expected} steps ran`);
    return { deferSeconds, zones, outsideWindow: check!.outside, early: check!.early };
  } finally {
    await engine.dispatcher.stop();
  }
}

/**
 * A third of the leads in each zone, each enrolled due at DUE_AT; answers how many. The ids stay
 * in here: a million of them kept alive through the drains would be ~100 MB more for every one
 * of V8's full collections to mark, a cost of the harness, not of the engine.
 */
async function seedLeadsAndEnrollments(db: Db, fixture: Fixture, perZone: number): Promise<number> {
  const leadIds: string[] = [];
  for (const [i, zone] of ZONES.entries()) {
    const rows = await db.query<{ id: string }>(
      `insert into leads (workspace_id, email, phone, timezone, first_name)
       select $1, 'lead' || g || '@bench.test', '+1555' || lpad(g::text, 7, '0'), $4, 'Lee' || g
       from generate_series($2::int, $3::int) g order by g returning id`,
      [fixture.workspaceId, i * perZone, (i + 1) * perZone - 1, zone.timezone],
    );
    for (const r of rows) leadIds.push(r.id); // a spread of a third of a million overflows the stack
  }
  await enrollSql(db, fixture, leadIds, DUE_AT);
  return leadIds.length;
}

/**
 * Polls until no live enrollment of the workspace is due (or leased) before `before`: one probe of
 * the due index, so the poll takes almost nothing from the engine on the store's one connection
 * (a count over a million rows every 50 ms would). The figures come from the rows' timestamps.
 */
async function untilNoneDueBefore(db: Db, workspaceId: string, before: Date, deadline: number): Promise<void> {
  for (;;) {
    const [row] = await db.query<{ done: boolean }>(
      `select not exists (select 1 from enrollments where workspace_id = $1 and status in ('active', 'waiting')
         and next_execution_at is not null and next_execution_at < $2) as done`,
      [workspaceId, before],
    );
    if (row?.done) return;
    if (Date.now() > deadline) throw new Error('morning run timed out');
    await sleep(50);
  }
}
