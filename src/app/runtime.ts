/**
 * The server assembly (`touchpoint serve`, and the tests): the store, the engine with its
 * inline dispatcher (started unless `worker: false`, e.g. `serve --no-worker` beside distributed
 * workers), and the HTTP app. The distributed worker (worker.ts) is built from the same parts.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.ts';
import { webhookSettingsOf, type Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { openDatabase } from '../db/open.ts';
import type { MockDelivery } from '../delivery/mock.ts';
import { systemClock, type Clock } from '../engine/clock.ts';
import { createEngine, type InlineEngine } from '../engine/engine.ts';
import { WebhookDeliverer } from '../outbound/deliverer.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { createAccounts, type Accounts } from '../accounts/accounts.ts';
import { accountSettingsOf } from '../accounts/settings.ts';
import { accountMailer } from './accountMailer.ts';
import { SmtpMailboxSender } from '../delivery/email/smtp.ts';
import { appParts, type PartsOptions } from './parts.ts';
import { sealPlainEndpointSecrets } from './secretRotation.ts';
import { inboxServiceFor } from './inbox.ts';
import { ReportUpkeep } from './reportUpkeep.ts';
import type { InboxService } from '../inbox/service.ts';
import { routePlugins } from './routes.ts';

export interface Runtime {
  config: Config;
  db: Db;
  engine: InlineEngine;
  /** Posts outbound webhooks (started with the worker; tests drive `drain()`). */
  deliverer: WebhookDeliverer;
  app: FastifyInstance;
  accounts: Accounts;
  metrics: Metrics;
  mock?: MockDelivery;
  /** Watches the mailboxes' INBOXes (started with the worker; absent with IMAP_WATCH=false). */
  inbox?: InboxService;
  /** Builds the reports' closed days (started with the worker; tests drive `tick()`). */
  reports: ReportUpkeep;
  close(): Promise<void>;
  /** Gives back the leases of steps this process is still running (a shutdown past its deadline). */
  releaseLeases(): Promise<number>;
}

/** Opens the configured store, logging lost connections (the pool reconnects). */
export function openStore(config: Config, logger?: Logger): Promise<Db> {
  return openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    onError: (error) => logger?.warn({ err: error }, 'database connection lost; reconnecting'),
  });
}

export async function createRuntime(
  config: Config,
  options: { logger?: Logger; clock?: Clock; worker?: boolean; db?: Db; parts?: PartsOptions } = {},
): Promise<Runtime> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const db = options.db ?? (await openStore(config, logger));
  const parts = appParts(config, logger, options.parts);
  // Webhook signing secrets stored in the clear before they were sealed get sealed now (docs/SECURITY.md).
  if (parts.keyRing) {
    await sealPlainEndpointSecrets(db, parts.keyRing).then(
      (sealed) => (sealed > 0 ? logger?.info({ sealed }, 'sealed webhook signing secrets kept in the clear') : undefined),
      (error: unknown) => logger?.warn({ err: error }, 'webhook signing secrets could not be sealed now; `touchpoint secrets rotate` seals them'),
    );
  }
  const { deps, mock } = parts.engineDeps({ db, clock, ingest: (event) => engine.ingest(event) });
  const maxIdleMs = config.DISPATCHER_MAX_IDLE_SECONDS === undefined ? undefined : config.DISPATCHER_MAX_IDLE_SECONDS * 1000;
  const engine: InlineEngine = createEngine(deps, { onWake: parts.onWake, maxIdleMs });
  parts.watch(db, clock);
  const now = () => clock.now();
  // Account emails (resets, invites) have their own SMTP pools: they must not queue behind a mailbox's sequence sends.
  const accountSmtp = new SmtpMailboxSender({ ...options.parts?.smtp, now: () => clock.now().getTime() });
  const mailer = accountMailer({ db, config, email: mock ? undefined : deps.adapters.email, smtp: accountSmtp, openSecret: parts.openSecret });
  const accounts = createAccounts(db, accountSettingsOf(config), now, mailer);
  const plugins = routePlugins({ config, db, engine, logger, metrics: parts.metrics, metricsText: parts.metricsText, mailboxes: parts.mailboxes, connections: parts.connections, openSecret: parts.openSecret, accounts, now, live: parts.live });
  await parts.relayLive(db, { listen: true });
  const app = await buildApp({ db, engine, logger, trustProxy: config.TRUST_PROXY, plugins });
  const deliverer = new WebhookDeliverer({ db, clock, logger, settings: webhookSettingsOf(config), openSecret: parts.openSecret, observer: parts.metrics.observer, live: parts.live });
  const inbox = (options.worker ?? true) ? inboxServiceFor(config, { deps, engine, logger, tls: options.parts?.imapTls }) : undefined;
  const reports = new ReportUpkeep({ db, clock, logger });
  if (options.worker ?? true) {
    engine.dispatcher.start();
    deliverer.start();
    inbox?.start();
    reports.start();
  }
  return {
    config,
    db,
    engine,
    deliverer,
    app,
    accounts,
    metrics: parts.metrics,
    mock,
    inbox,
    reports,
    close: async () => {
      // Claiming stops at once, while the HTTP side lets its in-flight requests finish.
      await Promise.all([app.close(), engine.dispatcher.stop(), deliverer.stop(), inbox?.stop(), reports.stop()]);
      await parts.close();
      await accountSmtp.close();
      if (!options.db) await db.close();
    },
    releaseLeases: async () => (await engine.dispatcher.releaseHeld()) + (await deliverer.releaseHeld()),
  };
}
