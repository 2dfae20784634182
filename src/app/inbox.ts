/**
 * The inbox service of an assembly (embedded server or distributed worker): on unless
 * IMAP_WATCH=false; events go to the engine's ingest, resumed enrollments wake its dispatcher.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { EngineDeps } from '../engine/deps.ts';
import type { Engine } from '../engine/engine.ts';
import { InboxService } from '../inbox/service.ts';
import { inboxSettingsOf } from '../inbox/settings.ts';

export function inboxServiceFor(config: Config, args: { deps: EngineDeps; engine: Engine; logger?: Logger; tls?: ConnectionOptions }): InboxService | undefined {
  if (!config.IMAP_WATCH) return undefined;
  return new InboxService({
    db: args.deps.db,
    clock: args.deps.clock,
    ingest: (event) => args.engine.ingest(event),
    wake: () => args.engine.wake(),
    openSecret: args.deps.openSecret,
    settings: inboxSettingsOf(config),
    tls: args.tls,
    logger: args.logger,
  });
}
