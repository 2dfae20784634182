/** The inbox service's settings from the environment (docs/OPERATIONS.md, "Mailbox watching"). */
import type { Config } from '../config.ts';
import type { InboxSettings } from './service.ts';

export function inboxSettingsOf(config: Config): InboxSettings {
  return {
    leaseMs: config.IMAP_LEASE_SECONDS * 1000,
    pollMs: config.IMAP_POLL_SECONDS * 1000,
    // A server that is down is tried again after 2 s, 4 s, 8 s … up to 5 minutes.
    backoff: { initialMs: 2_000, maxMs: 5 * 60_000 },
    pauseDays: config.AUTO_REPLY_PAUSE_DAYS,
    maxPauseDays: config.AUTO_REPLY_MAX_PAUSE_DAYS,
  };
}
