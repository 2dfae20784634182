-- Single sign-on (issue 17): a sign-in started at the OpenID provider and not yet finished.
-- The row is keyed by the sha256 of the `state` sent to the provider and bound to the browser
-- that started it (sha256 of its short-lived `tp_oidc` cookie). The callback deletes the row as
-- it reads it, so a callback URL works once; rows live 10 minutes.
create table oidc_logins (
  state_hash text primary key,
  browser_hash text not null,
  -- PKCE's code_verifier and the ID token's expected nonce: useless without the provider's
  -- one-time code, and gone once the callback (or the clean-up) deletes the row.
  code_verifier text not null,
  nonce text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index oidc_logins_expiry on oidc_logins (expires_at);
