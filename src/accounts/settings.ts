/** The accounts' settings from the environment (docs/ACCOUNTS.md, "Settings"). */
import type { Config } from '../config.ts';
import type { AccountSettings } from './accounts.ts';
import { SSO_CALLBACK_PATH, type SsoSettings } from './sso.ts';

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

/** Single sign-on's settings, or undefined when OIDC_ISSUER (with its client) is not configured. */
export function ssoSettingsOf(config: Config): SsoSettings | undefined {
  if (!config.OIDC_ISSUER || !config.OIDC_CLIENT_ID || !config.OIDC_CLIENT_SECRET) return undefined;
  const { baseUrl } = accountSettingsOf(config);
  return {
    issuer: config.OIDC_ISSUER,
    clientId: config.OIDC_CLIENT_ID,
    clientSecret: config.OIDC_CLIENT_SECRET,
    redirectUri: `${baseUrl}${SSO_CALLBACK_PATH}`,
    allowedDomains: [...new Set([...config.OIDC_ALLOWED_DOMAINS, ...config.OIDC_ALLOWED_DOMAIN])],
    justInTime: config.OIDC_JIT_WORKSPACE ? { workspace: config.OIDC_JIT_WORKSPACE, role: config.OIDC_JIT_ROLE } : undefined,
  };
}
