import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { ROLES, anyTokenExists, createToken, ensureWorkspace, listTokens, revokeToken, type Role } from '../db/workspaces.ts';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';
import { createRuntime } from '../app/runtime.ts';
import { createLogger } from '../telemetry/logger.ts';
import { EmbeddedStoreBusyError, lockDataDir } from './embeddedLock.ts';
import { CliError } from './errors.ts';
import { handleSignals, portProblem, portSentence } from './shutdown.ts';
import { removeDemo, seedDemo } from './seed.ts';

class CommandError extends CliError {}

/** Opens the configured store for a one-shot command, holding the embedded lock while it runs. */
export async function withDatabase<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const unlock = config.DATABASE_URL ? () => undefined : lockDataDir(config.DATA_DIR);
  try {
    const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    unlock();
  }
}

export async function runServe(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'no-worker': { type: 'boolean', default: false } } });
  // Before anything is created: on a first start the store and its one-time admin token would
  // otherwise be made, and then lost with the failed start.
  const problem = await portProblem(config.PORT, config.HOST);
  if (problem) {
    console.error(`touchpoint serve: ${portSentence(config.PORT, config.HOST, problem)}`);
    return 2;
  }
  const logger = createLogger(config.LOG_LEVEL);
  let unlock = () => undefined as void;
  try {
    if (!config.DATABASE_URL) unlock = lockDataDir(config.DATA_DIR);
  } catch (error) {
    if (error instanceof EmbeddedStoreBusyError) {
      console.error(`touchpoint serve: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const runtime = await createRuntime(config, { logger, worker: !values['no-worker'] });
  let address: string;
  try {
    address = await runtime.app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    // Someone took the port between the check and now: still one sentence, and no token made.
    const code = (error as NodeJS.ErrnoException).code;
    if (!code) throw error;
    await runtime.close().catch(() => undefined);
    unlock();
    console.error(`touchpoint serve: ${portSentence(config.PORT, config.HOST, code)}`);
    return 2;
  }
  // Only once the server listens: a token printed for a server that never started is a lost one.
  const firstToken = await firstRunToken(runtime.db, config.WORKSPACE_TIMEZONE);
  // While nobody has an account: a fresh link to create the first admin, on every start.
  const firstAdmin = await runtime.accounts.firstAdminLink(config.WORKSPACE_TIMEZONE);
  const store = config.DATABASE_URL ? 'PostgreSQL' : `embedded PGlite in ${config.DATA_DIR}`;
  const delivery = config.USE_MOCK_SEQUENCE_DELIVERY ? 'mock delivery' : 'live delivery';
  console.log(`Touchpoint listening on ${address.replace('127.0.0.1', 'localhost')} (${store}, ${delivery}${values['no-worker'] ? ', no worker' : ', in-process worker'})`);
  if (firstAdmin) {
    console.log(`First start: open this one-time link to create the first admin of workspace "default" (valid until ${firstAdmin.expiresAt.toISOString()}):`);
    // On the embedded default the link names this machine at the port actually bound (PORT=0 picks one).
    const url = config.PUBLIC_URL ? firstAdmin.url : firstAdmin.url.replace(`http://localhost:${config.PORT}`, address.replace('127.0.0.1', 'localhost'));
    console.log(`  ${url}`);
  }
  if (firstToken) {
    console.log(`For scripts, an admin API token for workspace "default" (shown once; create more with \`npx touchpoint tokens create\`):`);
    console.log(`  ${firstToken}`);
  }

  handleSignals({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    graceful: () => runtime.close(),
    forced: async () => {
      const released = await runtime.releaseLeases();
      logger.warn({ released }, 'gave back the leases of steps still running');
    },
    always: unlock,
  });
  return -1; // keep running
}

/** On an empty store, an admin token so a newcomer can sign in without reading docs. */
async function firstRunToken(db: Db, zone: string): Promise<string | undefined> {
  if (await anyTokenExists(db)) return undefined;
  const workspace = await ensureWorkspace(db, 'default', zone);
  return (await createToken(db, workspace.id, 'admin', 'first-run admin')).token;
}

export async function runMigrate(config: Config): Promise<number> {
  await withDatabase(config, async (db) => {
    const applied = await migrate(db);
    console.log(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'The database is up to date.');
  });
  return 0;
}

export async function runTokens(config: Config, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { workspace: { type: 'string' }, role: { type: 'string', default: 'admin' }, name: { type: 'string' } },
  });
  if (sub === 'create') {
    if (!ROLES.includes(values.role as Role)) throw new CommandError(`--role must be one of ${ROLES.join(', ')}.`);
    const token = await withDatabase(config, async (db) => {
      const workspace = await ensureWorkspace(db, values.workspace ?? 'default', config.WORKSPACE_TIMEZONE);
      return (await createToken(db, workspace.id, values.role as Role, values.name)).token;
    });
    console.log(token); // alone on stdout, so `TOKEN=$(npx touchpoint tokens create)` works
    return 0;
  }
  if (sub === 'list') {
    const tokens = await withDatabase(config, async (db) => listTokens(db));
    const shown = values.workspace ? tokens.filter((t) => t.workspaceName === values.workspace) : tokens;
    for (const t of shown) {
      console.log(
        [t.id, t.prefix, t.workspaceName, t.role, t.name, t.createdAt.toISOString(), t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'live'].join('\t'),
      );
    }
    return 0;
  }
  if (sub === 'revoke') {
    const [id] = positionals;
    if (!id) throw new CommandError('Name the token to revoke by its id or prefix: touchpoint tokens revoke <id-or-prefix>');
    const revoked = await withDatabase(config, (db) => revokeToken(db, id));
    console.log(revoked ? `Revoked ${id}.` : `No live token matches ${id}.`);
    return revoked ? 0 : 1;
  }
  throw new CommandError('Use: touchpoint tokens create|list|revoke');
}

export async function runSeed(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { demo: { type: 'boolean', default: false }, remove: { type: 'boolean', default: false }, workspace: { type: 'string', default: 'default' } },
  });
  if (!values.demo) throw new CommandError('Use: touchpoint seed --demo [--workspace NAME] [--remove]');
  if (values.remove) {
    console.log(await withDatabase(config, (db) => removeDemo(db, values.workspace)));
    return 0;
  }
  if (!config.USE_MOCK_SEQUENCE_DELIVERY) {
    throw new CommandError('Demo data needs mock delivery (USE_MOCK_SEQUENCE_DELIVERY=true): its addresses are not real, and live providers would try to reach them.');
  }
  const lines = await withDatabase(config, (db) => seedDemo(db, config, values.workspace));
  for (const line of lines) console.log(line);
  return 0;
}

export { CommandError };
