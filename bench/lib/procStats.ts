/** A process's CPU time and memory, read from /proc (Linux): C dist.'s idle figures. */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU time of a process, in seconds (null once it has gone): the sum of its threads' time on a
 * CPU from /proc/<pid>/task/<tid>/schedstat (nanoseconds; /proc/<pid>/stat counts in ticks of
 * 10 ms, 1 % of a core over a 1 s window), or utime + stime from /proc/<pid>/stat where
 * schedstat is missing.
 */
export function cpuSeconds(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e9;
  } catch {
    // schedstat missing, or the process gone (then so is its stat).
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) ppid(1) … utime(11) stime(12).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) / 1024 : NaN;
}

export function cpuOf(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = cpuSeconds(pid);
    if (s !== null) out.set(pid, s);
  }
  return out;
}

/** CPU seconds between two readings, of the processes present in both. */
export function spent(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) {
    const b = before.get(pid);
    // A thread that ended takes its schedstat time with it: never count less than nothing.
    if (b !== undefined) total += Math.max(0, s - b);
  }
  return total;
}
