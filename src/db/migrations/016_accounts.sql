-- Accounts (issue 17): people who sign in, their memberships and sessions, one-time links
-- (invites, password set/reset), and the per-email login failure count behind the lockout.

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text,
  -- Argon2id (PHC string); null until the person sets a password (SSO-only, or a pending link).
  password_hash text,
  created_at timestamptz not null default now()
);
-- One account per address, whatever its case.
create unique index users_email on users (lower(email));

create table memberships (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  user_id uuid not null references users(id) on delete cascade,
  role text not null check (role in ('viewer', 'operator', 'admin')),
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index memberships_user on memberships (user_id);

create table sessions (
  id uuid primary key default gen_random_uuid(),
  -- sha256 of the cookie's value; the value itself is never stored.
  token_hash text not null unique,
  user_id uuid not null references users(id) on delete cascade,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  -- The absolute limit; the idle limit is last_seen_at + SESSION_IDLE_MINUTES.
  expires_at timestamptz not null,
  revoked_at timestamptz,
  address text,
  user_agent text
);
create index sessions_user on sessions (user_id) where revoked_at is null;

-- Invites and password links: the clear token is in the link only, sha256 here; used once.
create table account_links (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in ('invite', 'password')),
  token_hash text not null unique,
  -- invite: the workspace and role it grants; email null = whoever opens it (the first admin).
  workspace_id uuid references workspaces(id) on delete cascade,
  role text check (role in ('viewer', 'operator', 'admin')),
  email text,
  -- password: whose password it sets.
  user_id uuid references users(id) on delete cascade,
  created_by text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  check ((kind = 'invite' and workspace_id is not null and role is not null) or (kind = 'password' and user_id is not null))
);
create index account_links_workspace on account_links (workspace_id, created_at) where kind = 'invite';

-- Failed sign-ins per submitted address, known account or not, so the lockout (and its answer)
-- is the same for an unknown email as for a wrong password.
create table login_failures (
  email text primary key,
  failures int not null,
  first_at timestamptz not null,
  locked_until timestamptz
);

-- Workspace defaults a new sequence starts from (PATCH /api/workspaces/{id}).
alter table workspaces add column default_schedule jsonb;
alter table workspaces add column default_quiet_hours jsonb;
alter table workspaces add column holidays text[] not null default '{}';
