import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export interface OpenDatabaseOptions {
  /** PostgreSQL server; when absent the embedded PGlite store in `dataDir` is used. */
  databaseUrl?: string;
  dataDir?: string;
  poolSize?: number;
  migrate?: boolean;
  onError?: (error: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Db> {
  const db = options.databaseUrl
    ? await openPostgres({ connectionString: options.databaseUrl, max: options.poolSize, onError: options.onError })
    : await openPglite(options.dataDir);
  if (options.migrate ?? true) await migrate(db);
  return db;
}
