/** The accounts' settings from the environment (docs/ACCOUNTS.md, "Settings"). */
import type { Config } from '../config.ts';
import type { AccountSettings } from './accounts.ts';

export function accountSettingsOf(config: Config): AccountSettings {
  return {
    sessionIdleMs: config.SESSION_IDLE_HOURS * 3_600_000,
    sessionMaxMs: config.SESSION_MAX_DAYS * 86_400_000,
    loginMaxFailures: config.LOGIN_MAX_FAILURES,
    lockoutMs: config.LOGIN_LOCKOUT_MINUTES * 60_000,
    // Links name the dashboard's pages; on the embedded default that is this machine.
    baseUrl: (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, ''),
  };
}
