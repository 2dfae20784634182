/** The one-time token of an invite or set-password link: in the fragment (`#token=…`), so no server log or Referer ever holds it. */
export function linkTokenOf(hash: string): string | null {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return value && value.length >= 10 && value.length <= 100 ? value : null;
}

/** Drops the token from the address bar and history once the link has been used. */
export function forgetLinkToken(): void {
  window.history.replaceState(null, '', window.location.pathname);
}
