/**
 * PGlite is one process's database: two processes opening the same data folder would corrupt
 * it. A pid file in DATA_DIR turns that into a clear message instead.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CliError } from './errors.ts';

export class EmbeddedStoreBusyError extends CliError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'touchpoint.pid');
  let holder: number | undefined;
  try {
    holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch {
    holder = undefined;
  }
  if (holder && holder !== process.pid && alive(holder)) {
    throw new EmbeddedStoreBusyError(
      `The embedded store in ${dataDir} is in use by process ${holder} (touchpoint serve?). Stop it first, ` +
        'use the REST API instead, or point DATABASE_URL at PostgreSQL to share one database between processes.',
    );
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}
