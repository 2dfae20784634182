/**
 * Signals for long-running commands (`serve`, `worker`). The first SIGTERM or SIGINT starts a
 * graceful stop: no new claims, in-flight steps and requests finish. If that takes longer than
 * SHUTDOWN_TIMEOUT_SECONDS, the process gives its leases back (so another process, or the next
 * start, runs that work at once instead of after the lease) and exits 1. A second signal exits
 * at once with 128 + the signal's number, as a shell would report it.
 */
import { constants } from 'node:os';
import { createServer } from 'node:net';
import type { Logger } from 'pino';

export interface ShutdownPlan {
  logger: Logger;
  timeoutMs: number;
  /** Stops everything in order; resolves when the process may exit 0. */
  graceful(): Promise<void>;
  /** After the deadline: give back what can be given back (bounded by the caller), then exit 1. */
  forced(): Promise<void>;
  /** Runs on every exit path (the embedded store's lock file). */
  always?(): void;
}

/** Longest the forced path may spend giving leases back before it exits anyway. */
const FORCED_BUDGET_MS = 5_000;

export function handleSignals(plan: ShutdownPlan): void {
  let stopping = false;
  const exit = (code: number) => {
    plan.always?.();
    process.exit(code);
  };
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      plan.logger.warn({ signal }, 'second signal: exiting now, without waiting for in-flight work');
      exit(128 + (constants.signals[signal] ?? 15));
      return;
    }
    stopping = true;
    plan.logger.info({ signal, deadlineSeconds: plan.timeoutMs / 1000 }, 'stopping: no new claims, finishing in-flight steps');
    const deadline = setTimeout(() => {
      plan.logger.warn({ seconds: plan.timeoutMs / 1000 }, 'shutdown deadline passed: giving back leases and exiting');
      const budget = new Promise<void>((resolve) => setTimeout(resolve, FORCED_BUDGET_MS).unref());
      void Promise.race([plan.forced().catch((error: unknown) => plan.logger.error({ err: error }, 'could not give back leases')), budget]).then(() => exit(1));
    }, plan.timeoutMs);
    try {
      await plan.graceful();
    } catch (error) {
      plan.logger.error({ err: error }, 'stopping failed');
      clearTimeout(deadline);
      exit(1);
      return;
    }
    clearTimeout(deadline);
    plan.logger.info('stopped');
    exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * Why `port` on `host` cannot be listened on (`EADDRINUSE`, `EACCES`, …), or undefined when it
 * can: checked before anything is created, so a busy port costs nothing. Port 0 always can.
 */
export async function portProblem(port: number, host: string): Promise<string | undefined> {
  if (port === 0) return undefined;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** One sentence for a port we cannot listen on. */
export function portSentence(port: number, host: string, problem: string): string {
  if (problem === 'EADDRINUSE') return `port ${port} on ${host} is already in use (another Touchpoint or another program); stop it, or set PORT to a free port.`;
  if (problem === 'EACCES') return `port ${port} on ${host} needs privileges this user lacks; set PORT to 1024 or above.`;
  if (problem === 'EADDRNOTAVAIL' || problem === 'ENOTFOUND') return `HOST ${host} is not an address of this machine; set HOST to one (127.0.0.1, or 0.0.0.0 for every interface).`;
  return `cannot listen on port ${port} on ${host} (${problem}); set PORT or HOST to something this machine can listen on.`;
}
