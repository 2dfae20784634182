/**
 * Why a single sign-on ended without a session. The server sends the person back to the
 * dashboard with `?sso_error=<code>`; the dashboard shows the sentence for the code. Only codes
 * travel in the URL — never text — so a crafted link cannot put words on our sign-in page.
 */
export const SSO_ERRORS = {
  sso_not_configured: 'Single sign-on is not set up on this Touchpoint. Sign in with your email and password.',
  sso_unavailable: 'The sign-in provider did not answer. Try again in a minute; if it keeps failing, tell an admin.',
  sso_rate_limited: 'Too many sign-in attempts from this address. Wait a few minutes, then try again.',
  sso_state_invalid: 'This sign-in attempt is unknown, expired, already used, or was started in another browser. Start again from the sign-in page.',
  sso_denied: 'The sign-in provider did not sign you in (cancelled or refused).',
  sso_failed: 'The answer of the sign-in provider could not be verified. Start again; if it keeps failing, an admin should check the SSO settings.',
  sso_email_missing: 'The sign-in provider did not share your email address. An admin should allow the "email" scope for Touchpoint.',
  sso_email_unverified: 'The sign-in provider does not vouch for your email address (it is not verified there), so it cannot open a Touchpoint account.',
  sso_domain_not_allowed: "Your email's domain may not sign in to this Touchpoint with single sign-on.",
  sso_no_account: 'No Touchpoint account has your email address. Ask an admin of your workspace for an invite.',
} as const;

export type SsoErrorCode = keyof typeof SSO_ERRORS;

/** The sentence for a code read from a URL, or undefined for anything we did not send. */
export function ssoErrorMessage(code: string | null | undefined): string | undefined {
  return code && Object.hasOwn(SSO_ERRORS, code) ? SSO_ERRORS[code as SsoErrorCode] : undefined;
}
