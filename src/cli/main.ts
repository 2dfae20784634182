/**
 * `touchpoint <command>`: the one place that reads the environment and the command line.
 */
import { ConfigError, parseConfig } from '../config.ts';
import { runMigrate, runSeed, runServe, runTokens } from './commands.ts';
import { CliError } from './errors.ts';
import { runFakeProviders } from './fakeProviders.ts';
import { runSecrets } from './secrets.ts';
import { runSimulate } from './simulate.ts';
import { runUsers } from './users.ts';
import { runWorker } from './worker.ts';

const USAGE = `Usage: touchpoint <command> [options]

Commands:
  serve [--no-worker]        API server (and, by default, the in-process worker) on PORT (3000)
  worker [--concurrency N]   distributed worker (needs DATABASE_URL and REDIS_URL); /metrics on WORKER_METRICS_PORT
  migrate                    apply database migrations and exit
  tokens create [--workspace NAME] [--role admin|operator|viewer] [--name LABEL]
  tokens list [--workspace NAME]
  tokens revoke <id-or-prefix>
  users create --email EMAIL [--workspace NAME] [--role admin|operator|viewer]
                             a person's account; the password is read from stdin, or a set-password link is printed
  users reset-password --email EMAIL
                             prints a one-time link that sets a new password
  simulate <definition.json> --lead <lead.json> [--start ISO] [--events events.json] [--enrollment-id ID] [--json]
                             dry run: the projected timeline, no database, no sends
  secrets rotate             re-seal every stored credential under TOUCHPOINT_SECRET_KEY (then drop _PREVIOUS)
  seed --demo [--workspace NAME] [--remove]
                             demo leads and sequences in a workspace (default: "default"); --remove takes them out
  fake-providers [--target URL] [--no-engage] [--env-out FILE]
                             fake SendGrid, Postmark, Telnyx and AI writer on loopback; prints the env for serve

Environment: DATABASE_URL (PostgreSQL; unset = embedded PGlite in DATA_DIR, default ./.touchpoint),
PORT, USE_MOCK_SEQUENCE_DELIVERY (default true), … (see README.md).`;

export class UsageError extends CliError {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === 'simulate') return runSimulate(rest);
  const config = parseConfig(process.env);
  switch (command) {
    case 'serve':
      return runServe(config, rest);
    case 'worker':
      return runWorker(config, rest);
    case 'migrate':
      return runMigrate(config);
    case 'tokens':
      return runTokens(config, rest);
    case 'users':
      return runUsers(config, rest);
    case 'seed':
      return runSeed(config, rest);
    case 'secrets':
      return runSecrets(config, rest);
    case 'fake-providers':
      return runFakeProviders(config, rest);
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CliError || String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`touchpoint: ${(error as Error).message}`);
      if (error instanceof UsageError) console.error(`\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(error);
    process.exitCode = 1;
  },
);
