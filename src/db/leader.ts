/**
 * The dispatcher leader's session: one dedicated PostgreSQL connection holding a session
 * advisory lock. The lock lives exactly as long as the session, so a leader that dies (SIGKILL,
 * lost network, pg_terminate_backend) loses it with its connection.
 */
import pg from 'pg';

/** The two-int4 lock space: cannot collide with single-bigint locks such as migrations'. */
const LOCK_CLASS = 7_020_418;

export interface LeaderSession {
  /** Takes the schema's dispatcher lock if nobody holds it; answers whether this session holds it. */
  tryLead(): Promise<boolean>;
  /** Fails when the session is gone (and with it the lock). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openLeaderSession(options: {
  connectionString: string;
  /** Shown in pg_stat_activity, so an operator can see who leads. */
  applicationName: string;
  /** The connection failed between calls (terminated, network lost). */
  onError: (error: Error) => void;
}): Promise<LeaderSession> {
  const client = new pg.Client({
    connectionString: withoutApplicationName(options.connectionString),
    application_name: options.applicationName,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  });
  client.on('error', options.onError);
  await client.connect();
  return {
    async tryLead() {
      // Schema-scoped, so separate deployments (and test schemas) in one database elect apart.
      const { rows } = await client.query<{ held: boolean }>(
        `select pg_try_advisory_lock($1, hashtext(current_database() || '.' || current_schema())) as held`,
        [LOCK_CLASS],
      );
      return Boolean(rows[0]?.held);
    },
    async ping() {
      await client.query('select 1');
    },
    close: () => client.end().catch(() => undefined),
  };
}

/** pg lets a URL's application_name win over the option; the leader's own name must show. */
function withoutApplicationName(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    url.searchParams.delete('application_name');
    return url.toString();
  } catch {
    return connectionString;
  }
}
