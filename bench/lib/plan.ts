/** How big each workload is, per mode. */
export interface Sizes {
  mode: 'quick' | 'full';
  /**
   * Measured runs per figure: 3 at full size, 1 at `--quick` (its budget of 60 s); each after
   * a warm-up where the figure needs one (a fresh process or store), and each interleaved with
   * its peer, so a ratio is always of two readings from the same invocation.
   */
  runs: number;
  /** A: enrollments (× 3 steps) per throughput run, embedded and peers. */
  throughputLeads: number;
  /** A on PostgreSQL (Touchpoint's dispatcher in 2 processes, graphile-worker) and the BullMQ chain. */
  serverLeads: number;
  bullmqChains: number;
  workerProcesses: number;
  /** Jobs at once per process: Touchpoint's inline dispatcher. */
  workerConcurrency: number;
  /** Jobs at once per process for graphile-worker: its best of 8, 16, 32 (docs/BENCHMARKS.md, "Sizes"). */
  graphileConcurrency: number;
  /** Jobs at once per process for the bare BullMQ chain: where its rate levels off (docs/BENCHMARKS.md, "Sizes"). */
  bullmqConcurrency: number;
  /** B: seconds of steady arrivals per rate, and the burst's size. */
  lagSeconds: number;
  lagLoads: number[];
  burst: number;
  /**
   * B: a warm-up run before each rate and the burst (full), or one before the first rate only
   * (quick: B runs in the process and store A has just warmed).
   */
  lagWarmUpEach: boolean;
  /** C: dormant enrollments, due ones, seconds of idle measured. */
  dormant: number;
  dormantDue: number;
  /**
   * C: seconds the process waits, once its loop is asleep after the drain, before the idle
   * window and the RSS reading: past V8's post-drain collections at full size
   * (POST_DRAIN_SETTLE_SECONDS), 1 s at `--quick`, where RSS is then not judged (rssJudged).
   */
  dormantSettleSeconds: number;
  idleSeconds: number;
  /**
   * C: one discarded run (a pair of fresh processes) before the measured ones (full), or none
   * (quick). Each measured process warms itself up first (100 enrollments, not timed) either way.
   */
  dormantWarmUpRun: boolean;
  /**
   * C dist. (C on PostgreSQL + BullMQ, 2 worker processes): dormant enrollments in a cached
   * database, due ones per run, seconds the workers get to go quiet after the drain, and
   * seconds of idle measured. A discarded pair of runs first when `dormantWarmUpRun` (full)
   * or when the worker processes did not run A distributed first.
   */
  dormantPg: number;
  dormantPgDue: number;
  dormantPgSettleSeconds: number;
  dormantPgIdleSeconds: number;
  /** D: leads enrolled (batches of 10,000). */
  enrollLeads: number;
  /** E: items per kind (× 4 kinds) and full walks of the timeline per run. */
  timelinePerKind: number;
  timelineWalks: number;
  /** F: workspace A's enrollments (× 3 steps) due at one instant, beside B's trickle. */
  fairA: number;
  /** G: texts, and as many emails, due at one instant (texts limited to 50/s). */
  limitedEach: number;
  /** H: enrollments opening at 09:00 local, a third each in Tokyo, London and New York. */
  morning: number;
  timeoutMs: number;
}

/**
 * After a drain the process's RSS falls once V8's memory reducer runs its full collections:
 * sampled second by second after a drain of 10,000, from 325 to 270 MiB at ~25 s
 * (docs/BENCHMARKS.md, "Results", C). The full run waits this long before C's idle window and
 * RSS reading (both C's: C dist.'s `dormantPgSettleSeconds` is the same 35 s).
 */
export const POST_DRAIN_SETTLE_SECONDS = 35;

/**
 * Whether an RSS read `settleSeconds` after a drain is judged against the target (≤ 300 MiB):
 * only when read after V8's post-drain collections, as the full run reads it. A reading taken
 * earlier (`--quick`: 0.5–1 s after) is that of a heap not yet collected, reported but not judged.
 */
export function rssJudged(settleSeconds: number): boolean {
  return settleSeconds >= POST_DRAIN_SETTLE_SECONDS;
}

export function plan(mode: 'quick' | 'full', runs?: number): Sizes {
  if (mode === 'quick') {
    return {
      mode,
      runs: runs ?? 1,
      throughputLeads: 100,
      serverLeads: 150,
      bullmqChains: 1000,
      workerProcesses: 2,
      workerConcurrency: 8,
      graphileConcurrency: 8,
      bullmqConcurrency: 100,
      lagSeconds: 0.5,
      lagLoads: [0.25, 0.5, 0.8],
      burst: 200,
      lagWarmUpEach: false,
      dormant: 20_000,
      dormantDue: 300,
      dormantSettleSeconds: 1,
      idleSeconds: 0.5,
      dormantWarmUpRun: false,
      dormantPg: 20_000,
      dormantPgDue: 150,
      dormantPgSettleSeconds: 0.5,
      dormantPgIdleSeconds: 0.5,
      enrollLeads: 5_000,
      timelinePerKind: 250,
      timelineWalks: 2,
      fairA: 300,
      limitedEach: 150,
      morning: 1_500,
      timeoutMs: 120_000,
    };
  }
  return {
    mode,
    runs: runs ?? 3,
    throughputLeads: 2000,
    serverLeads: 2000,
    bullmqChains: 10_000,
    workerProcesses: 2,
    workerConcurrency: 8,
    graphileConcurrency: 8,
    bullmqConcurrency: 100,
    lagSeconds: 10,
    lagLoads: [0.25, 0.5, 0.8],
    burst: 100_000,
    lagWarmUpEach: true,
    dormant: 1_000_000,
    dormantDue: 10_000,
    dormantSettleSeconds: POST_DRAIN_SETTLE_SECONDS,
    idleSeconds: 5,
    dormantWarmUpRun: true,
    dormantPg: 10_000_000,
    dormantPgDue: 10_000,
    dormantPgSettleSeconds: POST_DRAIN_SETTLE_SECONDS,
    dormantPgIdleSeconds: 10,
    enrollLeads: 100_000,
    timelinePerKind: 250,
    timelineWalks: 10,
    fairA: 100_000,
    limitedEach: 5_000,
    morning: 1_000_000,
    timeoutMs: 3_600_000,
  };
}
